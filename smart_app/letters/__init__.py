"""Denial letters (a text PDF, a scanned PDF, or page images from a fax) read into fields, each with its line.

``model`` holds the types; ``document`` turns the file into pages of lines (a text PDF's own text, or OCR through
Debian's tesseract: ``ocr``; cells of a row joined: ``rows``); ``fields`` finds the denial's fields in those lines
(``labelled``, ``services``, ``reason``, ``policy``, ``p2p``, ``parties``, over ``paragraphs`` with ``patterns``
forgiving OCR's noise); ``reading.read_letter`` does both; ``contract`` prints the stable JSON of ``p2p-brief letter
--format json``; ``denial`` turns confirmed fields into the pipeline's ``Denial``; ``patient`` checks the letter is
the patient's. Nothing here leaves the machine: no cloud service sees a letter.
"""
