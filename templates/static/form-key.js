// One-time form keys across Back. A page shown again by Back is fetched afresh (pages with patient data are never
// cached), so its form has a new key, while the browser puts back what was typed. When it has put typed values back,
// the form gets back the key those values were typed under: if that form was submitted, submitting it again shows
// the first result (the note or denial already saved) instead of writing a second one; if not, it is saved as new.
// Only the random key is kept (sessionStorage, per form action, this tab only); nothing here reads or sends patient
// data.
(function () {
  var PREFIX = "p2p-form-key:";
  function changed(el) {
    if (el.name === "form_key" || el.type === "hidden" || el.type === "submit" || el.type === "button") return false;
    if (el.type === "checkbox" || el.type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      // With no option marked selected in the page, a single select starts on its first option: that is not typed.
      var marked = Array.prototype.some.call(el.options, function (o) { return o.defaultSelected; });
      return Array.prototype.some.call(el.options, function (o, i) {
        return o.selected !== (marked ? o.defaultSelected : !el.multiple && i === 0);
      });
    }
    return typeof el.value === "string" && el.value !== el.defaultValue;
  }
  function setUp() {
    document.querySelectorAll("form input[name=form_key]").forEach(function (input) {
      var form = input.form, slot = PREFIX + form.getAttribute("action");
      var typedUnder = window.sessionStorage.getItem(slot);
      if (typedUnder && Array.prototype.some.call(form.elements, changed)) input.value = typedUnder;
      if (form.hasAttribute("data-form-key")) return;
      form.setAttribute("data-form-key", "");
      function remember() { window.sessionStorage.setItem(slot, input.value); }
      form.addEventListener("input", remember);
      form.addEventListener("change", remember);
      form.addEventListener("submit", remember);
    });
  }
  setUp();
  window.addEventListener("pageshow", setUp);
})();
