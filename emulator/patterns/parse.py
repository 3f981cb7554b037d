"""Compile pattern text into sub-rules, rejecting what AWS rejects with AWS's messages.

This follows AWS's JSON rule compiler step by step (same token order, same checks, same texts),
because the error a user sees depends on exactly where the compiler stopped: the message and the
Jackson location both come from that point. Each ``$or`` branch forks the rule into its own
sub-rule (an AND over its fields), and fields after the ``$or`` apply to every fork.

Nesting is handled with an explicit stack, never recursion, so deep input cannot raise
``RecursionError``; the number of forks is capped so ``$or`` cannot blow up memory.

Two dialects share this compiler; :class:`Dialect` says what differs. SNS answers as an older
release of AWS's compiler does: no wildcard, a narrower numeric range, and of the ``anything-but``
forms only a single-string ``prefix`` (its wrong operands get that release's wording).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import jsonscan as js
from .errors import RuleSyntaxError
from .matchers import FieldCondition, Matcher, parse_ip, looks_like_ip
from .wildcard import WildcardSyntaxError, parse_wildcard

OR = "$or"
RESERVED_IN_OR = frozenset((
    "exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard",
    "numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard",
    "not-equals-ignore-case", "date-after", "date-on-or-after", "date-before",
    "date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range",
))


@dataclass(frozen=True)
class Dialect:
    name: str
    numeric_limit: float
    wildcard: bool
    exactly: bool
    anything_but_forms: frozenset[str]
    # {"anything-but": {"prefix": [...]}}: lists, and "prefix/suffix" wording for bad operands.
    # Without it a form takes one string, else "<form> match pattern must be a string".
    anything_but_form_lists: bool
    affix_ignore_case: bool  # {"prefix": {"equals-ignore-case": ...}}
    max_subrules: int
    max_subrules_reason: str


EVENTBRIDGE = Dialect(
    name="eventbridge", numeric_limit=5e9, wildcard=True, exactly=True,
    anything_but_forms=frozenset(("equals-ignore-case", "prefix", "suffix", "wildcard")),
    anything_but_form_lists=True,
    affix_ignore_case=True,
    # AWS must bound $or expansion but does not document where; emulator's choice and wording.
    max_subrules=1000,
    max_subrules_reason="Rule is too complex - try using fewer $or relationships",
)
SNS = Dialect(
    name="sns", numeric_limit=1e9, wildcard=False, exactly=False,
    # Recorded: {"anything-but": {"suffix": ...}} is "Unsupported anything-but pattern: suffix",
    # and {"anything-but": {"prefix": false}} "prefix match pattern must be a string".
    anything_but_forms=frozenset(("prefix",)),
    anything_but_form_lists=False,
    affix_ignore_case=False,
    max_subrules=150,  # SNS's documented complexity limit bounds forks as well
    max_subrules_reason="Filter policy is too complex",
)


@dataclass
class Compiled:
    """The compiler's output: sub-rules of ``path -> (matchers, absent, value count)``."""

    subrules: list[dict[str, tuple[tuple[Matcher, ...], bool, int]]]
    nested: bool = False
    top_keys: list[set[str]] = field(default_factory=list)


def _java_double(x: float) -> str:
    """Java's Double.toString for the few bounds that appear in messages (5.0E9, 1.0E9)."""
    mantissa, exp = f"{x:.1E}".split("E")
    return f"{mantissa}E{int(exp)}"


class _Obj:
    __slots__ = ("rules", "path", "in_or", "seen", "branch_of")

    def __init__(self, rules: list, path: str, in_or: bool, branch_of: "_Or | None" = None) -> None:
        self.rules = rules
        self.path = path
        self.in_or = in_or
        self.seen = False
        self.branch_of = branch_of


class _Or:
    __slots__ = ("target", "current", "path", "count")

    def __init__(self, target: list, current: list, path: str) -> None:
        self.target = target
        self.current = current
        self.path = path
        self.count = 0


class RuleCompiler:
    """One compilation of one pattern text in one dialect."""

    def __init__(self, text: str, dialect: Dialect) -> None:
        self.p = js.JsonTokens(text)
        self.d = dialect
        self.nested = False

    # ------------------------------------------------------------------ structure
    def compile(self) -> Compiled:
        p = self.p
        if p.next_token() != js.START_OBJECT:
            raise p.error("Filter is not an object")
        rules: list[dict] = []
        stack: list[_Obj | _Or] = [_Obj(rules, "", False)]
        while stack:
            frame = stack[-1]
            if isinstance(frame, _Or):
                self._step_or(frame, stack)
            else:
                self._step_object(frame, stack)
        return Compiled(subrules=rules, nested=self.nested)

    def _step_object(self, frame: _Obj, stack: list) -> None:
        p = self.p
        if p.next_token() == js.END_OBJECT:
            if not frame.seen:
                raise p.error("Empty objects are not allowed")
            stack.pop()
            if frame.branch_of is not None:
                target = frame.branch_of.target
                target.extend(frame.rules)
                if len(target) > self.d.max_subrules:
                    raise RuleSyntaxError(self.d.max_subrules_reason)
            return
        frame.seen = True
        name = p.name
        if name == OR:
            current = [dict(r) for r in frame.rules]
            frame.rules.clear()
            if p.next_token() != js.START_ARRAY:
                raise p.error("It must be an Array followed with $or.")
            stack.append(_Or(frame.rules, current, frame.path))
            return
        if frame.in_or and name in RESERVED_IN_OR:
            raise p.error(f"{name} is Ruler reserved fieldName which cannot be used inside $or.")
        token = p.next_token()
        full = f"{frame.path}.{name}" if frame.path else name
        if token == js.START_OBJECT:
            self.nested = True
            stack.append(_Obj(frame.rules, full, frame.in_or))
        elif token == js.START_ARRAY:
            self._write_rules(frame.rules, full)
        else:
            raise p.error(f'"{name}" must be an object or an array')

    def _step_or(self, frame: _Or, stack: list) -> None:
        p = self.p
        token = p.next_token()
        if token == js.END_ARRAY:
            if frame.count < 2:
                raise p.error("There must have at least 2 Objects in $or relationship.")
            stack.pop()
            return
        frame.count += 1
        if token != js.START_OBJECT:
            raise p.error("Only JSON object is allowed in array of $or relationship.")
        branch = [dict(r) for r in frame.current] or [{}]
        stack.append(_Obj(branch, frame.path, True, branch_of=frame))

    def _write_rules(self, rules: list[dict], name: str) -> None:
        p = self.p
        values: list[Matcher] = []
        absent = False
        count = 0
        while (token := p.next_token()) != js.END_ARRAY:
            count += 1
            if token == js.START_OBJECT:
                m = self._match_expression()
                if m is None:
                    absent = True
                else:
                    values.append(m)
            elif token == js.STRING:
                text = p.text()
                ip = parse_ip(text) if looks_like_ip(text) else None
                values.append(Matcher("ip", ip) if ip else Matcher("str", text))
            elif token in js.NUMERIC_TOKENS:
                values.append(Matcher("num", _number(p.text())))
            elif token in (js.NULL, js.TRUE, js.FALSE):
                values.append(Matcher("lit", p.text()))
            else:
                raise p.error("Match value must be String, number, true, false, or null")
        if count == 0:
            raise p.error("Empty arrays are not allowed")
        if not rules:
            rules.append({})
        entry = (tuple(values), absent, count)
        for rule in rules:
            rule[name] = entry

    # ------------------------------------------------------------------ match expressions
    def _string_operand(self, message: str) -> str:
        p = self.p
        if p.next_token() != js.STRING:
            raise p.error(message)
        return p.text()

    def _end_object(self, message: str = "Only one key allowed in match expression") -> None:
        if self.p.next_token() != js.END_OBJECT:
            raise self.p.error(message)

    def _match_expression(self) -> Matcher | None:
        """One ``{operator: operand}`` object; None stands for ``{"exists": false}``."""
        p, d = self.p, self.d
        if p.next_token() != js.FIELD_NAME:
            raise p.error("Match expression name not found")
        op = p.name
        if op == "exactly" and d.exactly:
            m = Matcher("str", self._string_operand("exact match pattern must be a string"))
        elif op in ("prefix", "suffix"):
            token = p.next_token()
            if token == js.START_OBJECT and d.affix_ignore_case:
                return self._affix_ignore_case(op)
            if token != js.STRING:
                raise p.error(f"{op} match pattern must be a string")
            m = Matcher(op, p.text())
        elif op == "numeric":
            if p.next_token() != js.START_ARRAY:
                raise p.error("Value of numeric must be an array.")
            m = self._numeric()
            self._end_object("Too many elements in numeric expression")
            return m
        elif op == "anything-but":
            return self._anything_but()
        elif op == "exists":
            token = p.next_token()
            if token not in (js.TRUE, js.FALSE):
                raise p.error("exists match pattern must be either true or false.")
            self._end_object()
            return Matcher("exists", None) if token == js.TRUE else None
        elif op == "cidr":
            text = self._string_operand("prefix match pattern must be a string")
            m = cidr_matcher(text)
        elif op == "equals-ignore-case":
            m = Matcher("ic", self._string_operand(
                "equals-ignore-case match pattern must be a string").lower())
        elif op == "wildcard" and d.wildcard:
            text = self._string_operand("wildcard match pattern must be a string")
            try:
                m = Matcher("wildcard", parse_wildcard(text))
            except WildcardSyntaxError as e:
                raise p.error(str(e)) from None
        else:
            raise p.error(f"Unrecognized match type {op}")
        self._end_object()
        return m

    def _affix_ignore_case(self, op: str) -> Matcher:
        p = self.p
        if p.next_token() != js.FIELD_NAME:
            raise p.error(f"{op.capitalize()} expression name not found")
        if p.name != "equals-ignore-case":
            raise p.error(f"Unsupported {op} pattern: {p.name}")
        text = self._string_operand("equals-ignore-case match pattern must be a string")
        self._end_object()
        self._end_object()
        return Matcher(f"{op}_ic", text.lower())

    def _numeric(self) -> Matcher:
        p = self.p
        if p.next_token() != js.STRING:
            raise p.error(f"Invalid member in numeric match: {p.text()}")
        op = p.text()
        token = p.next_token()
        if op not in ("=", "<", "<=", ">", ">="):
            raise p.error(f"Unrecognized numeric range operator: {op}")
        if token not in js.NUMERIC_TOKENS:
            raise p.error(f"Value of {'equals' if op == '=' else op} must be numeric")
        value = p.text()
        if op in ("=", "<", "<="):
            if p.next_token() != js.END_ARRAY:
                raise p.error("Too many elements in numeric expression")
            x = self._comparable(value)
            if op == "=":
                return Matcher("numeric", (x, False, x, False))
            return Matcher("numeric", (-self.d.numeric_limit, False, x, op == "<"))
        bottom = value
        token = p.next_token()
        if token == js.END_ARRAY:
            return Matcher("numeric", (self._comparable(bottom), op == ">", self.d.numeric_limit, False))
        if token != js.STRING:
            raise p.error(f"Bad value in numeric range: {p.text()}")
        top_op = p.text()
        if top_op not in ("<", "<="):
            raise p.error(f"Bad numeric range operator: {top_op}")
        if p.next_token() not in js.NUMERIC_TOKENS:
            raise p.error(f"Value of {top_op} must be numeric")
        top = p.text()
        if p.next_token() != js.END_ARRAY:
            raise p.error("Too many terms in numeric range expression")
        lo, hi = self._comparable(bottom), self._comparable(top)
        if lo >= hi:
            raise p.error("Bottom must be less than top")
        return Matcher("numeric", (lo, op == ">", hi, top_op == "<"))

    def _comparable(self, text: str, located: bool = True) -> float:
        """A number usable in comparisons; AWS only supports a bounded range."""
        x = _number(text)
        limit = self.d.numeric_limit
        if not -limit <= x <= limit:
            reason = (f"Value must be between {_java_double(-limit)} and {_java_double(limit)}, "
                      "inclusive")
            raise self.p.error(reason) if located else RuleSyntaxError(reason)
        return x

    def _anything_but(self) -> Matcher:
        p, d = self.p, self.d
        form = None
        token = p.next_token()
        if token == js.START_OBJECT:
            if p.next_token() != js.FIELD_NAME:
                raise p.error("Anything-But expression name not found")
            form = p.name
            if form not in d.anything_but_forms:
                raise p.error(f"Unsupported anything-but pattern: {form}")
            token = p.next_token()
            if token != js.STRING and not d.anything_but_form_lists:
                raise p.error(f"{form} match pattern must be a string")
        if token not in (js.START_ARRAY, js.STRING, js.NUMBER_INT, js.NUMBER_FLOAT):
            raise p.error("Value of anything-but must be an array or single string/number value.")
        if form is None:
            m = self._anything_but_list() if token == js.START_ARRAY else self._anything_but_one(token)
        else:
            texts = self._anything_but_texts(form, token)
            m = _anything_but_form(form, texts)
        self._end_object("Too many elements in numeric expression")
        if form is not None:
            self._end_object("Too many elements in numeric expression")
        return m

    def _anything_but_one(self, token: str) -> Matcher:
        p = self.p
        if token == js.STRING:
            return Matcher("ab_str", frozenset((p.text(),)))
        return Matcher("ab_num", frozenset((self._comparable(p.text(), located=False),)))

    def _anything_but_list(self) -> Matcher:
        """Values inside the list are re-reported with a second location, as AWS does."""
        p = self.p
        strings: set[str] = set()
        numbers: set[float] = set()
        while (token := p.next_token()) != js.END_ARRAY:
            if token == js.STRING:
                strings.add(p.text())
            elif token in js.NUMERIC_TOKENS:
                numbers.add(self._comparable(p.text()))
            else:
                raise _twice(p, "Inside anything but list, start|null|boolean is not supported.")
        if bool(strings) == bool(numbers):
            raise p.error("Inside anything but list, either all values are number or string, "
                          "mixed type is not supported")
        return Matcher("ab_str", frozenset(strings)) if strings else Matcher("ab_num", frozenset(numbers))

    def _anything_but_texts(self, form: str, token: str) -> list[str]:
        p = self.p
        if form == "equals-ignore-case":
            wrong = "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
        elif form == "wildcard":
            wrong = "wildcard match pattern must be a string"
        else:
            wrong = "prefix/suffix match pattern must be a string"
        texts: list[str] = []
        if token != js.START_ARRAY:
            if token != js.STRING:
                raise p.error(wrong)
            texts.append(self._checked_text(form, twice=False))
            self._check_wildcards(form, texts)
            return texts
        while (token := p.next_token()) != js.END_ARRAY:
            if token != js.STRING:
                raise _twice(p, wrong)
            texts.append(self._checked_text(form, twice=True))
        # AWS checks a list's wildcard syntax only once the whole list has been read.
        self._check_wildcards(form, texts)
        return texts

    def _checked_text(self, form: str, twice: bool) -> str:
        p = self.p
        text = p.text()
        if form in ("prefix", "suffix") and not text:
            raise _twice(p, "Null prefix/suffix not allowed") if twice else p.error(
                "Null prefix/suffix not allowed")
        return text

    def _check_wildcards(self, form: str, texts: list[str]) -> None:
        if form != "wildcard":
            return
        for text in texts:
            try:
                parse_wildcard(text)
            except WildcardSyntaxError as e:
                raise self.p.error(str(e)) from None


def _twice(p: js.JsonTokens, message: str) -> RuleSyntaxError:
    """AWS re-wraps errors raised inside anything-but lists, so the location appears twice."""
    suffix = p.location_suffix()
    return RuleSyntaxError(message + suffix + suffix)


def _anything_but_form(form: str, texts: list[str]) -> Matcher:
    if form == "equals-ignore-case":
        return Matcher("ab_ic", frozenset(t.lower() for t in texts))
    if form == "prefix":
        return Matcher("ab_prefix", tuple(sorted(set(texts))))
    if form == "suffix":
        return Matcher("ab_suffix", tuple(sorted(set(texts))))
    return Matcher("ab_wildcard", tuple(parse_wildcard(t) for t in sorted(set(texts))))


def _number(text: str) -> float | int:
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)


def _java_split_slash(text: str) -> list[str]:
    parts = text.split("/")
    while parts and parts[-1] == "" and len(parts) > 1:
        parts.pop()
    return parts


def cidr_matcher(text: str) -> Matcher:
    """A ``cidr`` operand, validated as AWS does. AWS reports these without a location."""
    parts = _java_split_slash(text)
    if len(parts) != 2:
        raise RuleSyntaxError("Malformed CIDR, one '/' required")
    bits_text = parts[1]
    digits = bits_text[1:] if bits_text[:1] in "+-" else bits_text
    if not digits or not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        raise RuleSyntaxError("Malformed CIDR, mask bits must be an integer")
    bits = int(bits_text)
    if bits > 2**31 - 1 or bits < -(2**31):
        raise RuleSyntaxError("Malformed CIDR, mask bits must be an integer")
    if bits < 0:
        raise RuleSyntaxError("Malformed CIDR, mask bits must not be negative")
    ip_text = parts[0]
    if not looks_like_ip(ip_text):
        raise RuleSyntaxError(f"Nonstandard IP address: {ip_text}")
    ip = parse_ip(ip_text)
    if ip is None:
        raise RuleSyntaxError(f"Invalid IP address: {ip_text}")
    family, value = ip
    if family == 4 and bits > 31:
        raise RuleSyntaxError("IPv4 mask bits must be < 32")
    if family == 6 and bits > 127:
        raise RuleSyntaxError("IPv6 mask bits must be < 128")
    width = 32 if family == 4 else 128
    host = (1 << (width - bits)) - 1
    # AWS's range starts at the address as written (not the network address) and ends at the
    # address with all host bits set.
    return Matcher("cidr", (family, value, value | host))


_EXACT_KINDS = frozenset(("str", "num", "lit", "ip"))


def _selectivity(cond: FieldCondition) -> tuple[int, str]:
    """Chain order: exact-value conditions first, then other positive ones, absences last.

    Any fixed order gives the same answers (each sub-rule is its own chain); putting the
    conditions most likely to fail first keeps the states a large ruleset visits per event few.
    """
    if cond.absent:
        rank = 2
    elif all(m.kind in _EXACT_KINDS for m in cond.matchers):
        rank = 0
    else:
        rank = 1
    return rank, cond.path


def to_conditions(subrule: dict[str, tuple[tuple[Matcher, ...], bool, int]]) -> tuple[FieldCondition, ...]:
    """A compiled sub-rule as conditions in the machine's canonical chain order."""
    conds = [FieldCondition(path, matchers, absent) for path, (matchers, absent, _c) in subrule.items()]
    return tuple(sorted(conds, key=_selectivity))
