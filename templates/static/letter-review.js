// The letter review: hovering or focusing a field highlights the line it was read from on the page image (and
// brings it into view on focus); clicking a boxed line focuses its field.
(function () {
  "use strict";
  function boxOf(el) {
    var field = el.closest ? el.closest(".field[data-box]") : null;
    return field ? document.getElementById(field.getAttribute("data-box")) : null;
  }
  function mark(event, on) {
    var box = boxOf(event.target);
    if (!box) { return; }
    box.classList.toggle("active", on);
    if (on && event.type === "focusin" && box.scrollIntoView) { box.scrollIntoView({block: "nearest"}); }
  }
  document.addEventListener("focusin", function (e) { mark(e, true); });
  document.addEventListener("focusout", function (e) { mark(e, false); });
  document.addEventListener("mouseover", function (e) { mark(e, true); });
  document.addEventListener("mouseout", function (e) { mark(e, false); });
  document.addEventListener("click", function (e) {
    var box = e.target.closest ? e.target.closest(".source-box[data-field]") : null;
    if (!box) { return; }
    var name = box.getAttribute("data-field");
    var input = document.getElementById("f-" + name) || document.getElementById("f-" + name.replace(/^service_(\d+)$/, "service_code_$1")) ||
      document.getElementById("f-" + name + "_amount") || document.getElementById("f-decided_date");
    if (input) { input.focus(); }
  });
}());
