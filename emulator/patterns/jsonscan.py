"""A streaming JSON tokenizer that reports positions the way AWS's parser (Jackson) does.

AWS's rule compiler reads a pattern token by token and, when it rejects one, appends the parser's
*current* location to its message: ``\\n at [Source: (String)"<pattern>"; line: 1, column: 36]``.
Reproducing those columns needs Jackson's reading habits, which recorded AWS answers confirm:

* after a field name, the parser has already read the colon and the first character of the value;
  numbers and ``true``/``false``/``null`` are read whole, a string only up to its opening quote
  (the rest is read when its text is asked for, or skipped by the next token);
* a syntax error about an unexpected character points *at* that character, other errors at the
  position after what was read.

Only what the rule compiler needs is here: tokens, the text of the current token, the current
field name and the location. Deeply nested input is fine: nothing here recurses.
"""

from __future__ import annotations

from .errors import RuleSyntaxError

START_OBJECT = "START_OBJECT"
END_OBJECT = "END_OBJECT"
START_ARRAY = "START_ARRAY"
END_ARRAY = "END_ARRAY"
FIELD_NAME = "FIELD_NAME"
STRING = "VALUE_STRING"
NUMBER_INT = "VALUE_NUMBER_INT"
NUMBER_FLOAT = "VALUE_NUMBER_FLOAT"
TRUE = "VALUE_TRUE"
FALSE = "VALUE_FALSE"
NULL = "VALUE_NULL"

NUMERIC_TOKENS = frozenset((NUMBER_INT, NUMBER_FLOAT))
_TOKEN_TEXT = {START_OBJECT: "{", END_OBJECT: "}", START_ARRAY: "[", END_ARRAY: "]",
               TRUE: "true", FALSE: "false", NULL: "null"}
_VALID_TOKENS = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_MAX_SOURCE = 500  # Jackson truncates the echoed source at 500 characters
MAX_DEPTH = 1000  # Jackson's default maximum nesting depth


def char_desc(ch: str) -> str:
    """Jackson's description of a character in error messages."""
    code = ord(ch)
    if code < 32:
        return f"(CTRL-CHAR, code {code})"
    if code > 255:
        return f"'{ch}' (code {code} / 0x{code:x})"
    return f"'{ch}' (code {code})"


def _low_surrogate(src: str, i: int) -> int | None:
    """The code of a ``\\uDC00``-``\\uDFFF`` escape at ``src[i]``, else None.

    Jackson decodes each escape into one UTF-16 unit, so an escaped high surrogate followed by an
    escaped low one is, in the Java string, exactly the character the pair stands for (which is
    how ``json.dumps`` writes every character outside the BMP). Python strings hold code points,
    so the pair has to be joined here; a lone surrogate stays what it is.
    """
    if src[i:i + 2] != "\\u":
        return None
    digits = src[i + 2:i + 6]
    if len(digits) < 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
        return None
    code = int(digits, 16)
    return code if 0xDC00 <= code <= 0xDFFF else None


def _is_ident_part(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


class _Context:
    __slots__ = ("kind", "count", "line", "col")

    def __init__(self, kind: str, line: int, col: int) -> None:
        self.kind = kind  # "root", "object" or "array"
        self.count = 0
        self.line = line
        self.col = col


class JsonTokens:
    """Jackson-like pull parser over one string."""

    def __init__(self, text: str) -> None:
        self.src = text
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.current: str | None = None
        self.name: str | None = None
        self._next: str | None = None
        self._text: str | None = None
        self._incomplete = False
        self._stack = [_Context("root", 1, 0)]

    # ----------------------------------------------------------------- locations and errors
    def location_suffix(self, col_offset: int = 0) -> str:
        col = self.pos - self.line_start + 1 + col_offset
        return f"\n at {self._source()}; line: {self.line}, column: {col}]"

    def _source(self) -> str:
        src = self.src
        if len(src) > _MAX_SOURCE:
            return f'[Source: (String)"{src[:_MAX_SOURCE]}"[truncated {len(src) - _MAX_SOURCE} chars]'
        return f'[Source: (String)"{src}"'

    def error(self, message: str) -> RuleSyntaxError:
        """The rule compiler's ``barf``: its message plus the current location."""
        return RuleSyntaxError(message + self.location_suffix())

    def _unexpected(self, ch: str, comment: str) -> RuleSyntaxError:
        return RuleSyntaxError(
            f"Unexpected character ({char_desc(ch)}): {comment}" + self.location_suffix(-1)
        )

    def _eof(self, comment: str) -> RuleSyntaxError:
        return RuleSyntaxError("Unexpected end-of-input" + comment + self.location_suffix())

    # ----------------------------------------------------------------- characters
    def _read(self) -> str | None:
        """The next character after whitespace, consumed; None at the end of input."""
        src, n = self.src, len(self.src)
        pos = self.pos
        while pos < n:
            ch = src[pos]
            pos += 1
            if ch == " " or ch == "\t":
                continue
            if ch == "\n" or ch == "\r":
                if ch == "\r" and pos < n and src[pos] == "\n":
                    pos += 1
                self.line += 1
                self.line_start = pos
                continue
            self.pos = pos
            return ch
        self.pos = pos
        return None

    # ----------------------------------------------------------------- tokens
    def next_token(self) -> str | None:
        if self.current == FIELD_NAME:
            token = self._next
            self._next = None
            self._enter(token)
            self.current = token
            return token
        if self._incomplete:
            self._finish_string()
        self._text = None
        ctx = self._stack[-1]
        ch = self._read()
        if ch is None:
            if ctx.kind == "root":
                self.current = None
                return None
            marker = "Object" if ctx.kind == "object" else "Array"
            raise self._eof(
                f": expected close marker for {marker} (start marker at {self._source()}; "
                f"line: {ctx.line}, column: {ctx.col}])"
            )
        if ch == "]" or ch == "}":
            return self._close(ch, ctx)
        if ctx.kind != "root" and ctx.count > 0:
            if ch != ",":
                kind = "Object" if ctx.kind == "object" else "Array"
                raise self._unexpected(ch, f"was expecting comma to separate {kind} entries")
            ch = self._read()
            if ch is None:
                raise self._eof(" within/between Object entries" if ctx.kind == "object"
                                else " within/between Array entries")
        ctx.count += 1
        if ctx.kind == "object":
            if ch != '"':
                raise self._unexpected(ch, "was expecting double-quote to start field name")
            self.name = self._string_body(name=True)
            ch = self._read()
            if ch != ":":
                if ch is None:
                    raise self._eof(" within/between Object entries")
                raise self._unexpected(ch, "was expecting a colon to separate field name and value")
            ch = self._read()
            if ch is None:
                raise self._eof(" within/between Object entries")
            self._next = self._value(ch)
            self.current = FIELD_NAME
            return FIELD_NAME
        token = self._value(ch)
        self._enter(token)
        self.current = token
        return token

    def _enter(self, token: str | None) -> None:
        if token == START_OBJECT or token == START_ARRAY:
            if len(self._stack) > MAX_DEPTH:
                raise RuleSyntaxError(
                    f"Document nesting depth ({len(self._stack)}) exceeds the maximum allowed "
                    f"({MAX_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)"
                    + self.location_suffix()
                )
            kind = "object" if token == START_OBJECT else "array"
            self._stack.append(_Context(kind, self.line, self.pos - self.line_start))

    def _close(self, ch: str, ctx: _Context) -> str:
        want = "}" if ctx.kind == "object" else "]"
        if ctx.kind == "root" or ch != want:
            if ctx.kind == "root":
                raise self._unexpected(ch, "expected a value")
            kind = "Object" if ctx.kind == "object" else "Array"
            raise RuleSyntaxError(
                f"Unexpected close marker '{ch}': expected '{want}' (for {kind} starting at "
                f"{self._source()}; line: {ctx.line}, column: {ctx.col}])" + self.location_suffix(-1)
            )
        self._stack.pop()
        self.current = END_OBJECT if ch == "}" else END_ARRAY
        return self.current

    def _value(self, ch: str) -> str:
        if ch == '"':
            self._incomplete = True
            return STRING
        if ch == "[":
            return START_ARRAY
        if ch == "{":
            return START_OBJECT
        if ch == "t":
            return self._literal("true", TRUE)
        if ch == "f":
            return self._literal("false", FALSE)
        if ch == "n":
            return self._literal("null", NULL)
        if ch == "-" or "0" <= ch <= "9":
            return self._number(ch)
        if ch == "}":
            raise self._unexpected(ch, "expected a value")
        if _is_ident_part(ch):
            self._invalid_token(ch)
        raise self._unexpected(ch, "expected a valid value " + _VALID_TOKENS)

    def _literal(self, word: str, token: str) -> str:
        src, start = self.src, self.pos - 1
        end = start + len(word)
        if src[start:end] == word and (end >= len(src) or not _is_ident_part(src[end])):
            self.pos = end
            self._text = word
            return token
        i = start + 1
        while i < len(src) and i - start < len(word) and src[i] == word[i - start]:
            i += 1
        self.pos = i
        self._invalid_token(src[start:i])
        raise AssertionError("unreachable")

    def _invalid_token(self, prefix: str) -> None:
        src, i = self.src, self.pos
        while i < len(src) and _is_ident_part(src[i]) and len(prefix) < 256:
            prefix += src[i]
            i += 1
        self.pos = i
        raise RuleSyntaxError(
            f"Unrecognized token '{prefix}': was expecting {_VALID_TOKENS}" + self.location_suffix()
        )

    def _number(self, first: str) -> str:
        src, n = self.src, len(self.src)
        start = self.pos - 1
        i = self.pos
        if first == "-":
            if i >= n:
                self.pos = i
                raise self._eof(" in a Number value")
            if not "0" <= src[i] <= "9":
                self.pos = i + 1
                raise RuleSyntaxError(
                    f"Unexpected character ({char_desc(src[i])}) in numeric value: expected digit "
                    "(0-9) to follow minus sign, for valid numeric value" + self.location_suffix(-1)
                )
        int_start = i if first == "-" else start
        j = int_start
        while j < n and "0" <= src[j] <= "9":
            j += 1
        if j - int_start > 1 and src[int_start] == "0":
            self.pos = int_start + 2
            raise RuleSyntaxError("Invalid numeric value: Leading zeroes not allowed"
                                  + self.location_suffix())
        is_float = False
        if j < n and src[j] == ".":
            is_float = True
            k = j + 1
            while k < n and "0" <= src[k] <= "9":
                k += 1
            if k == j + 1:
                self.pos = k + 1 if k < n else k
                if k >= n:
                    raise self._eof(" in a Number value")
                raise RuleSyntaxError(
                    f"Unexpected character ({char_desc(src[k])}) in numeric value: Decimal point not "
                    "followed by a digit" + self.location_suffix(-1)
                )
            j = k
        if j < n and src[j] in "eE":
            is_float = True
            k = j + 1
            if k < n and src[k] in "+-":
                k += 1
            m = k
            while m < n and "0" <= src[m] <= "9":
                m += 1
            if m == k:
                self.pos = m + 1 if m < n else m
                if m >= n:
                    raise self._eof(" in a Number value")
                raise RuleSyntaxError(
                    f"Unexpected character ({char_desc(src[m])}) in numeric value: Exponent "
                    "indicator not followed by a digit" + self.location_suffix(-1)
                )
            j = m
        self.pos = j
        self._text = src[start:j]
        return NUMBER_FLOAT if is_float else NUMBER_INT

    def _string_body(self, name: bool = False) -> str:
        """Read a string whose opening quote was consumed; return its decoded text."""
        src, n = self.src, len(self.src)
        i = self.pos
        out: list[str] = []
        run = i
        while True:
            if i >= n:
                self.pos = i
                raise self._eof(" in field name" if name
                                else ": was expecting closing quote for a string value")
            ch = src[i]
            if ch == '"':
                out.append(src[run:i])
                self.pos = i + 1
                return "".join(out)
            if ch == "\\":
                out.append(src[run:i])
                if i + 1 >= n:
                    self.pos = n
                    raise self._eof(" in character escape sequence")
                esc = src[i + 1]
                if esc == "u":
                    digits = src[i + 2:i + 6]
                    for d_i, d in enumerate(digits):
                        if d not in "0123456789abcdefABCDEF":
                            self.pos = i + 3 + d_i
                            raise RuleSyntaxError(
                                f"Unexpected character ({char_desc(d)}): expected a hex-digit for "
                                "character escape sequence" + self.location_suffix(-1)
                            )
                    if len(digits) < 4:
                        self.pos = n
                        raise self._eof(" in character escape sequence")
                    code = int(digits, 16)
                    i += 6
                    if 0xD800 <= code <= 0xDBFF:
                        low = _low_surrogate(src, i)
                        if low is not None:  # a pair is one character, as JSON (RFC 8259) says
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            i += 6
                    out.append(chr(code))
                elif esc in _ESCAPES:
                    out.append(_ESCAPES[esc])
                    i += 2
                else:
                    self.pos = i + 2
                    raise RuleSyntaxError(
                        f"Unrecognized character escape {char_desc(esc)}" + self.location_suffix()
                    )
                run = i
                continue
            if ch < " ":
                self.pos = i + 1
                what = "name" if name else "string value"
                raise RuleSyntaxError(
                    f"Illegal unquoted character ({char_desc(ch)}): has to be escaped using "
                    f"backslash to be included in {what}" + self.location_suffix(-1)
                )
            i += 1

    def _finish_string(self) -> None:
        self._incomplete = False
        self._text = self._string_body()

    def text(self) -> str:
        """Jackson's ``getText()``: reading a string's text consumes the rest of it."""
        token = self.current
        if token == STRING:
            if self._incomplete:
                self._finish_string()
            return self._text  # type: ignore[return-value]
        if token == FIELD_NAME:
            return self.name  # type: ignore[return-value]
        if token in NUMERIC_TOKENS:
            return self._text  # type: ignore[return-value]
        if token is None:
            return "null"
        return _TOKEN_TEXT[token]
