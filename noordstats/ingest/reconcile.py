"""Line a live CBS table up with its snapshot: which CBS key is which declared key and code.

A snapshot table read from CBS's keys (OData captures) has CBS's keys as its codes: a live
download matches them as they are. One read from a label-only source (harvested CSVs, StatLine
and StatWeb exports) has codes rebuilt from CBS's titles (``'A-U'``, ``'L_totaal'``;
:func:`~noordstats.ingest.importers.common.label_code`), except where the declaration's ``codes``
give the CBS key. Such codes are reconciled through CBS's own titles, in this order:

1. a CBS key the declaration lists (``T001081``) is that code;
2. a CBS title equal to a snapshot category's title (case, spacing and punctuation aside) is
   that category;
3. a CBS title whose code by the snapshot's own rule is a snapshot code (``'02 Vormgeving,
   kunst, talen en geschiedenis'`` -> ``02``, also when the snapshot's title was cut short) is
   that category;
4. a CBS category the snapshot does not have gets the code the snapshot's rule gives its title
   (listed as ``only_at_cbs``);
5. a CBS title whose code by that rule already stands for another category keeps its CBS key
   (listed as ``unreconciled``).

Snapshot categories that no CBS category matches are listed as ``not_at_cbs``. Dimensions and
measures whose declared key is not CBS's (a source with labels only) are matched by key, by the
key without punctuation or CBS's ``_<n>`` suffix, or by title.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from noordstats.ingest.importers.common import label_code


def normalise_title(text: str) -> str:
    """``'Bedrijfstakken/branches (SBI 2008) '`` -> ``'bedrijfstakken branches sbi 2008'``; a
    title cut short (``'... gesch...'``) loses its dots."""
    text = str(text).strip().removesuffix("...")
    return " ".join(re.findall(r"[0-9a-zà-ÿ]+", text.lower()))


def _compact(key: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", key).lower()


def match_keys(
    declared: dict[str, str], cbs: dict[str, str]
) -> tuple[dict[str, str], list[str], list[str]]:
    """Declared keys -> CBS keys. ``declared`` and ``cbs``: {key: title}. A declared key
    matches the same CBS key, else the one CBS key equal to it without punctuation or CBS's
    ``_<n>`` suffix, else the one CBS key with the same title. Returns (mapping, declared keys
    not found, CBS keys not matched)."""
    mapping: dict[str, str] = {k: k for k in declared if k in cbs}
    free = [k for k in cbs if k not in mapping.values()]
    for key, title in declared.items():
        if key in mapping:
            continue
        tests = (
            lambda c, key=key: _compact(c) == _compact(key),
            lambda c, key=key: _compact(re.sub(r"_\d+$", "", c)) == _compact(key),
            lambda c, title=title: normalise_title(cbs[c]) == normalise_title(title),
        )
        for test in tests:
            found = [c for c in free if test(c)]
            if len(found) == 1:
                mapping[key] = found[0]
                free.remove(found[0])
                break
    missing = [k for k in declared if k not in mapping]
    return mapping, missing, free


@dataclass
class CodeMap:
    """One dimension of a live download in the snapshot's codes."""

    dimension: str
    codes: dict[str, str] = field(default_factory=dict)  # stripped CBS key -> code
    names: dict[str, str] = field(default_factory=dict)  # code -> CBS title (stripped)
    method: str = "CBS keys"
    matched: int = 0
    only_at_cbs: list[dict[str, str]] = field(default_factory=list)
    not_at_cbs: list[dict[str, str]] = field(default_factory=list)
    unreconciled: list[dict[str, str]] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "matched": self.matched,
            "only_at_cbs": self.only_at_cbs,
            "not_at_cbs": self.not_at_cbs,
            "unreconciled": self.unreconciled,
        }

    def problems(self) -> list[str]:
        """One phrase per category that does not reconcile."""
        return [
            f"{self.dimension} {c['code']!r} ({c['name']}) not at CBS" for c in self.not_at_cbs
        ] + [
            f"{self.dimension} {c['key']!r} ({c['title']}): {c['reason']}"
            for c in self.unreconciled
        ]


def reconcile_codes(
    dimension: str,
    code_list: Iterable[dict[str, Any]],
    snapshot: dict[str, str],
    declared: dict[str, str],
    from_labels: bool,
) -> CodeMap:
    """CBS's code list of a dimension -> the codes of the snapshot. ``snapshot``: {code: title}
    of the snapshot's categories; ``declared``: the declaration's {title: CBS key};
    ``from_labels``: the snapshot's codes were rebuilt from titles (else they are CBS keys)."""
    listed = [(str(c["Key"]).strip(), str(c.get("Title") or "").strip()) for c in code_list]
    result = CodeMap(dimension)
    if not from_labels:
        result.codes = {key: key for key, _ in listed}
        result.names = dict(listed)
        result.matched = sum(1 for key, _ in listed if key in snapshot)
        result.not_at_cbs = [
            {"code": c, "name": t} for c, t in snapshot.items() if c not in result.codes
        ]
        return result
    result.method = "CBS titles"
    declared_keys = set(declared.values())
    by_title: dict[str, list[str]] = {}
    for code, title in snapshot.items():
        by_title.setdefault(normalise_title(title), []).append(code)
    taken: dict[str, str] = {}  # code -> CBS key

    def take(key: str, title: str, code: str) -> None:
        taken[code] = key
        result.codes[key] = code
        result.names[code] = title

    for key, title in listed:  # 1, 2: declared keys, equal titles
        candidates = by_title.get(normalise_title(title), [])
        if key in declared_keys:
            take(key, title, key)
        elif len(candidates) == 1 and candidates[0] not in taken:
            take(key, title, candidates[0])
    for key, title in listed:  # 3, 4, 5: the snapshot's rule
        if key in result.codes:
            continue
        code = label_code(title, declared)
        if code not in taken:
            if code not in snapshot:
                result.only_at_cbs.append({"key": key, "title": title, "code": code})
            take(key, title, code)
            continue
        own = key if key not in snapshot and key not in taken else f"CBS_{key}"
        reason = f"its title gives code {code!r}, which stands for {result.names[code]!r}"
        result.unreconciled.append({"key": key, "title": title, "code": own, "reason": reason})
        take(key, title, own)
    result.matched = sum(1 for code in taken if code in snapshot)
    result.not_at_cbs = [{"code": c, "name": t} for c, t in snapshot.items() if c not in taken]
    return result


def normalise_unit(unit: str | None) -> str:
    """``' x 1 000 '`` -> ``'x 1000'``; None and '' alike."""
    return re.sub(r"(?<=\d) (?=\d{3})", "", " ".join(str(unit or "").lower().split()))


def match_measures(
    declared: dict[str, tuple[str, str | None]], cbs: dict[str, tuple[str, str | None]]
) -> tuple[dict[str, str], list[str], list[str]]:
    """Declared measure keys -> CBS measure identifiers of another service (OData v4's
    ``M000352`` for v3's ``BevolkingOp1Januari_1``), by title and unit. ``declared`` and
    ``cbs``: {key: (title, unit)}. A declared measure matches the one CBS measure with its
    title (case, spacing and punctuation aside) and unit; where the declaration states no unit,
    the one with its title. Returns (mapping, declared keys not matched, with the reason, CBS
    identifiers not matched)."""
    mapping: dict[str, str] = {}
    problems: list[str] = []
    free = list(cbs)
    for key, (title, unit) in declared.items():
        same_title = [c for c in free if normalise_title(cbs[c][0]) == normalise_title(title)]
        found = [c for c in same_title if normalise_unit(cbs[c][1]) == normalise_unit(unit)]
        if unit is None and not found:
            found = same_title
        if len(found) == 1:
            mapping[key] = found[0]
            free.remove(found[0])
        elif not same_title:
            problems.append(f"{key} (no measure titled {title!r})")
        elif not found:
            units = ", ".join(repr(cbs[c][1]) for c in same_title)
            problems.append(f"{key} ({title!r} in unit {units}, declared {unit!r})")
        else:
            problems.append(f"{key} ({len(found)} measures titled {title!r})")
    return mapping, problems, free
