"""Denial letters (a text PDF, a scanned PDF, or page images from a fax) read into fields, each with its line.

``model`` holds the types; ``document`` turns the file into pages of lines (a text PDF's own text, or OCR through
Debian's tesseract); ``fields`` finds the denial's fields in those lines; ``contract`` prints the stable JSON of
``p2p-brief letter --format json``. Nothing here leaves the machine: no cloud service sees a letter.
"""
