"""Strict FHIRPath syntax check for ``criteria lint``, with fhirpathpy's own ANTLR grammar: fhirpathpy's
``parse`` ignores syntax errors and trailing input, so a typo would only surface as a silent empty result."""

from __future__ import annotations

from typing import Any

from antlr4 import CommonTokenStream, InputStream, Token
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser


class _Raise(ErrorListener):  # type: ignore[misc]
    def syntaxError(self, recognizer: Any, offending: Any, line: int, column: int, msg: str, e: Any) -> None:  # noqa: N802
        raise ValueError(f"column {column + 1}: {msg}")


def fhirpath_syntax_error(expression: str) -> str | None:
    """Why ``expression`` is not valid FHIRPath, or None when it parses completely."""
    try:
        lexer = FHIRPathLexer(InputStream(expression))
        lexer.removeErrorListeners()
        lexer.addErrorListener(_Raise())
        tokens = CommonTokenStream(lexer)
        parser = FHIRPathParser(tokens)
        parser.removeErrorListeners()
        parser.addErrorListener(_Raise())
        parser.expression()
        if tokens.LA(1) != Token.EOF:
            return f"unexpected {tokens.LT(1).text!r} after a complete expression"
    except ValueError as exc:
        return str(exc)
    return None
