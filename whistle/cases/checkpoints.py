"""Signed checkpoints of every trail: anchors that live outside the database.

A case's `trail_length` and `trail_head` sit in the same database as its events, so whoever
can write there can rewrite a trail and the row together. A checkpoint commits, at one
moment, to every case's (reference, trail length, head hash) and to the records of the apps
that register a kind of leaf (`register_leaves`: the patrols), as the leaves of a Merkle
tree (RFC 9162's shape: 0x00 before a leaf, 0x01 before two children). It holds the counts
and highest ids, the hash of the checkpoint before it, and is signed with the installation's
key. Copies kept by
the district archive or any witness then prove later that:

- the database still holds every trail the checkpoint committed to, up to the committed
  event, unchanged (`verify_against_database`), so that what came after extends it;
- a later checkpoint extends an earlier one (`check_consistency`);
- one case's exported history is in the tree (`inclusion_proof`, embedded in the export).

A checkpoint names every case of the installation. Who may not read every district with
cases gets a reader's view instead (`reader_view`): the checkpoint's header (number, time,
previous hash, counts, size, root, its signature) and, for each case the reader may see
alone, its leaf and audit path; signed again as a whole so that it proves itself
(`read_view`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Model, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from whistle.cases.models import Case, Checkpoint, Event
from whistle.cases.signing import SigningKeyMissing, key_path, sign
from whistle.cases.trail import GENESIS
from whistle.cases.verify import Problem, Report

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

logger = logging.getLogger("whistle.cases")

FORMAT = "whistle.trail-checkpoint"
VERSION = 1
VIEW_FORMAT = "whistle.trail-checkpoint-view"
VIEW_VERSION = 1
# What a reader's view keeps of the checkpoint: everything but the leaves.
HEADER = (
    "format",
    "version",
    "number",
    "created_at",
    "previous",
    "counts",
    "highest",
    "size",
    "root",
    "signature",
)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def document_hash(document: dict[str, Any]) -> str:
    """The hash the next checkpoint chains to: over the whole signed document."""
    return hashlib.sha256(_canonical(document)).hexdigest()


# The Merkle tree ------------------------------------------------------------------------


def leaf_hash(leaf: Sequence[Any]) -> bytes:
    return hashlib.sha256(b"\x00" + _canonical(list(leaf))).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two below `size`."""
    k = 1
    while k * 2 < size:
        k *= 2
    return k


def merkle_root(hashes: Sequence[bytes]) -> bytes:
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return _node(merkle_root(hashes[:k]), merkle_root(hashes[k:]))


def audit_path(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    if len(hashes) <= 1:
        return []
    k = _split(len(hashes))
    if index < k:
        return [*audit_path(index, hashes[:k]), merkle_root(hashes[k:])]
    return [*audit_path(index - k, hashes[k:]), merkle_root(hashes[:k])]


def root_from_path(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root an audit path leads to from a leaf (RFC 9162, 2.1.3.2); None when the path
    cannot belong to a tree of that size."""
    if not 0 <= index < size:
        return None
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            result = _node(sibling, result)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = _node(result, sibling)
        fn, sn = fn >> 1, sn >> 1
    return result if sn == 0 else None


def audit_paths(indices: Sequence[int], hashes: Sequence[bytes]) -> dict[int, list[bytes]]:
    """The audit paths of several leaves at once, level by level (a lone last node moves up
    unchanged, which gives RFC 9162's tree): linear in the tree, not in tree × leaves."""
    paths: dict[int, list[bytes]] = {i: [] for i in indices if 0 <= i < len(hashes)}
    positions = {i: i for i in paths}
    level = list(hashes)
    while len(level) > 1:
        for leaf, position in positions.items():
            sibling = position ^ 1
            if sibling < len(level):
                paths[leaf].append(level[sibling])
            positions[leaf] = position >> 1
        level = [
            _node(level[n], level[n + 1]) if n + 1 < len(level) else level[n]
            for n in range(0, len(level), 2)
        ]
    return paths


# What a checkpoint commits to -----------------------------------------------------------


@dataclass(frozen=True)
class LeafKind:
    """Records of another app a checkpoint commits to: `build` lists their leaves
    [kind, public id, count, digest]; `verify` names what the database no longer holds of
    the leaves of checkpoint number N."""

    kind: str
    build: Callable[[], list[list[Any]]]
    verify: Callable[[int, list[list[Any]]], list[Problem]]
    highest: Callable[[], dict[str, int]]


_LEAF_KINDS: dict[str, LeafKind] = {}


def register_leaves(kind: LeafKind) -> None:
    """Apps above the cases (the patrols) add their records at ready()."""
    _LEAF_KINDS[kind.kind] = kind


def chained_digest(items: Sequence[dict[str, Any]]) -> str:
    """A digest of records that are not hash-chained where they are stored, chained here in
    their stored order, so that one changed or removed shows."""
    digest = GENESIS
    for item in items:
        digest = hashlib.sha256(_canonical({"prev": digest, **item})).hexdigest()
    return digest


def _jsonable(value: Any) -> Any:
    return value.isoformat(timespec="microseconds") if isinstance(value, datetime) else value


def entry_leaves(
    kind: str, model: type[Model], columns: Sequence[str], label: _StrPromise
) -> LeafKind:
    """A leaf per entry of an append-only log that is not hash-chained where it is stored
    (the township's powers log, the duty roster log, the log of changes to contact
    addresses, …): [kind, id, 1, digest of the entry's columns]. The leaf holds the digest,
    never the columns, so that what an entry records (a reason typed in, who it names)
    stays in the database alone. One changed or removed is named by its id; `label`, a lazy
    translation with `%(id)s`, says how a problem names the entry in the reader's
    language."""

    def rows(ids: list[int] | None = None) -> dict[int, str]:
        entries = model._default_manager.order_by("pk")
        if ids is not None:
            entries = entries.filter(pk__in=ids)
        return {
            values[0]: chained_digest(
                [{name: _jsonable(value) for name, value in zip(columns, values[1:], strict=True)}]
            )
            for values in entries.values_list("pk", *columns).iterator(chunk_size=5000)
        }

    def build() -> list[list[Any]]:
        return [[kind, str(pk), 1, digest] for pk, digest in rows().items()]

    def verify(number: int, leaves: list[list[Any]]) -> list[Problem]:
        committed = {int(leaf[1]): str(leaf[3]) for leaf in leaves}
        present = rows(list(committed))
        problems: list[Problem] = []
        for pk, digest in committed.items():
            if pk not in present:
                problems.append(
                    _problem(
                        "removed",
                        _("the log entry was in checkpoint #%(number)s and is gone"),
                        label % {"id": pk},
                        number=number,
                    )
                )
            elif present[pk] != digest:
                problems.append(
                    _problem(
                        "log_changed",
                        _(
                            "the log entry is not the one checkpoint #%(number)s committed "
                            "to: it was changed"
                        ),
                        label % {"id": pk},
                        number=number,
                    )
                )
        return problems

    def highest() -> dict[str, int]:
        return {kind: model._default_manager.aggregate(n=Max("pk"))["n"] or 0}

    return LeafKind(kind=f"{kind}s", build=build, verify=verify, highest=highest)


def _case_leaves() -> list[list[Any]]:
    """Every case's last event, read from the events themselves (not from the case row,
    which the checkpoint must not trust)."""
    last = Event.objects.filter(case_id=OuterRef("pk")).order_by("-seq")
    rows = (
        Case.objects.order_by("pk")
        .annotate(last_seq=Subquery(last.values("seq")[:1]))
        .annotate(last_hash=Subquery(last.values("hash")[:1]))
        .values_list("reference", "last_seq", "last_hash")
    )
    return [
        ["case", reference, seq or 0, hash_ or GENESIS] for reference, seq, hash_ in rows.iterator()
    ]


def _snapshot(outermost: bool) -> None:
    """Read everything as of one moment: PostgreSQL's default isolation would let rows
    committed between two of the queries in (SQLite's read transaction is one snapshot).
    Only a transaction of its own can be told so; inside a caller's, the caller's holds."""
    if outermost and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def build_document(*, now: datetime, outermost: bool = False) -> dict[str, Any]:
    """The unsigned next checkpoint. Call inside a transaction; `outermost` when it was
    opened for this and nothing was read in it yet."""
    _snapshot(outermost)
    previous = Checkpoint.objects.order_by("-number").values_list("number", "hash").first()
    number, previous_hash = (previous[0] + 1, previous[1]) if previous else (1, GENESIS)
    leaves = {"cases": _case_leaves()}
    highest = {
        "case": Case.objects.aggregate(n=Max("pk"))["n"] or 0,
        "event": Event.objects.aggregate(n=Max("pk"))["n"] or 0,
    }
    counts = {"cases": len(leaves["cases"]), "events": sum(leaf[2] for leaf in leaves["cases"])}
    for name in sorted(_LEAF_KINDS):
        kind = _LEAF_KINDS[name]
        leaves[name] = kind.build()
        highest.update(kind.highest())
        counts[name] = len(leaves[name])
        counts[f"{name}_records"] = sum(leaf[2] for leaf in leaves[name])
    hashes = [leaf_hash(leaf) for leaf in _in_tree_order(leaves)]
    return {
        "format": FORMAT,
        "version": VERSION,
        "number": number,
        "created_at": now.isoformat(),
        "previous": previous_hash,
        "counts": counts,
        "highest": highest,
        "size": len(hashes),
        "root": merkle_root(hashes).hex(),
        "leaves": leaves,
    }


def _in_tree_order(leaves: dict[str, list[list[Any]]]) -> list[list[Any]]:
    """The cases first, then every other kind by name."""
    names = ["cases", *sorted(name for name in leaves if name != "cases")]
    return [leaf for name in names for leaf in leaves.get(name, [])]


def create_checkpoint(*, now: datetime) -> Checkpoint:
    """Build, sign and store the next checkpoint. `SigningKeyMissing` without a key."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        document = sign(build_document(now=now, outermost=outermost))
        return Checkpoint.objects.create(
            number=document["number"],
            created_at=now,
            root=document["root"],
            previous_hash=document["previous"],
            hash=document_hash(document),
            document=document,
        )


_warned_without_key = False


def sweep(now: datetime, *, batch: int) -> int:
    """The worker's pass: a checkpoint when the last one is WHISTLE_CHECKPOINT_INTERVAL_MINUTES
    old. Two workers may try at once; the number is unique, so one of them writes it."""
    global _warned_without_key
    minutes = settings.WHISTLE_CHECKPOINT_INTERVAL_MINUTES
    if not minutes:
        return 0
    last = Checkpoint.objects.order_by("-number").values_list("created_at", flat=True).first()
    if last is not None and now - last < timedelta(minutes=minutes):
        return 0
    try:
        create_checkpoint(now=now)
    except SigningKeyMissing:
        if not _warned_without_key:
            logger.warning("No checkpoint written: the signing key %s is missing", key_path())
            _warned_without_key = True
        return 0
    except IntegrityError:
        return 0
    return 1


# Checking a checkpoint ------------------------------------------------------------------


@dataclass
class CheckpointFacts:
    """A checkpoint file's content, read and checked for shape."""

    number: int
    created_at: str
    previous: str
    root: str
    size: int
    leaves: dict[str, list[list[Any]]]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def cases(self) -> list[list[Any]]:
        return self.leaves.get("cases", [])


def read_checkpoint(document: Any) -> CheckpointFacts | None:
    """The checkpoint's facts, or None when the document is not a checkpoint or its leaves
    do not make its root."""
    try:
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            return None
        facts = CheckpointFacts(
            number=int(document["number"]),
            created_at=str(document["created_at"]),
            previous=str(document["previous"]),
            root=str(document["root"]),
            size=int(document["size"]),
            leaves={
                str(name): [list(leaf) for leaf in items]
                for name, items in document["leaves"].items()
            },
            counts={k: int(v) for k, v in document["counts"].items()},
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return facts


def _problem(code: str, message: Any, case: str = "-", **params: Any) -> Problem:
    return Problem(case, None, "", code, message, params)


def check_leaves(facts: CheckpointFacts) -> list[Problem]:
    leaves = _in_tree_order(facts.leaves)
    if len(leaves) != facts.size or merkle_root([leaf_hash(x) for x in leaves]).hex() != (
        facts.root
    ):
        return [
            _problem(
                "root",
                _("the checkpoint's leaves do not make its Merkle root: the file was changed"),
            )
        ]
    return []


def verify_against_database(facts: CheckpointFacts) -> list[Problem]:
    """What the database no longer holds of what the checkpoint committed to: a case or
    patrol removed, a trail cut below the committed event, a committed event changed (or
    the whole trail rewritten with new hashes), and what the other kinds of leaves name."""
    problems: list[Problem] = []
    committed = {leaf[1]: (int(leaf[2]), str(leaf[3])) for leaf in facts.cases}
    cases = dict(Case.objects.filter(reference__in=list(committed)).values_list("reference", "pk"))
    wanted = {cases[ref]: (ref, *committed[ref]) for ref in committed if ref in cases}
    found: dict[int, str] = {}
    for case_id, seq, hash_ in (
        Event.objects.filter(case_id__in=list(wanted))
        .order_by("case_id", "seq")
        .values_list("case_id", "seq", "hash")
        .iterator(chunk_size=5000)
    ):
        if wanted[case_id][1] == seq:
            found[case_id] = hash_
    for reference, (length, head) in committed.items():
        if reference not in cases:
            problems.append(
                _problem(
                    "removed",
                    _("the case was in checkpoint #%(number)s and is gone"),
                    reference,
                    number=facts.number,
                )
            )
            continue
        if length == 0:
            continue
        present = found.get(cases[reference])
        if present is None:
            problems.append(
                _problem(
                    "cut",
                    _(
                        "checkpoint #%(number)s holds %(length)s events of this trail; event "
                        "#%(length)s is gone: the trail was cut"
                    ),
                    reference,
                    number=facts.number,
                    length=length,
                )
            )
        elif present != head:
            problems.append(
                _problem(
                    "rewritten",
                    _(
                        "event #%(length)s is not the one checkpoint #%(number)s committed to: "
                        "the trail was rewritten"
                    ),
                    reference,
                    number=facts.number,
                    length=length,
                )
            )
    for name, items in facts.leaves.items():
        if name in _LEAF_KINDS:
            problems.extend(_LEAF_KINDS[name].verify(facts.number, items))
    return problems


def leaf_label(leaf: Sequence[Any]) -> str:
    """How a problem names a leaf: a case by its reference, anything else by kind and id."""
    return str(leaf[1]) if leaf[0] == "case" else f"{leaf[0]} {leaf[1]}"


def check_consistency(older: CheckpointFacts, newer: CheckpointFacts) -> list[Problem]:
    """That `newer` extends `older`: every case and patrol still there, no trail shorter,
    none with another head at the same length. Consecutive checkpoints must also be
    chained; between others the stored chain is read (`check_stored_chain`)."""
    problems: list[Problem] = []
    if newer.number <= older.number:
        return [
            _problem(
                "order",
                _("checkpoint #%(newer)s is not later than #%(older)s"),
                newer=newer.number,
                older=older.number,
            )
        ]
    for kind, old_leaves in older.leaves.items():
        later = {str(leaf[1]): (int(leaf[2]), str(leaf[3])) for leaf in newer.leaves.get(kind, [])}
        for leaf in old_leaves:
            name, length, head = leaf_label(leaf), int(leaf[2]), str(leaf[3])
            now = later.get(str(leaf[1]))
            if now is None:
                problems.append(
                    _problem(
                        "removed",
                        _("in checkpoint #%(older)s but not in #%(newer)s"),
                        name,
                        older=older.number,
                        newer=newer.number,
                    )
                )
            elif now[0] < length or (now[0] == length and now[1] != head):
                problems.append(
                    _problem(
                        "rewritten",
                        _(
                            "%(old)s events in checkpoint #%(older)s, %(new)s in #%(newer)s "
                            "with another head: the record was cut or rewritten in between"
                        ),
                        name,
                        old=length,
                        older=older.number,
                        new=now[0],
                        newer=newer.number,
                    )
                )
    return problems


def check_chain_between(
    older: CheckpointFacts, older_hash: str, newer: CheckpointFacts
) -> list[Problem]:
    """That `newer` follows `older`: the checkpoints stored between them (none when they are
    consecutive) link one to the next by hash, and each extends the one before. Between
    two files alone a trail that grew cannot be compared; through every stored step it can,
    up to the interval between two checkpoints."""
    stored = list(
        Checkpoint.objects.filter(number__gt=older.number, number__lt=newer.number)
        .order_by("number")
        .values_list("document", flat=True)
    )
    steps: list[tuple[CheckpointFacts, str]] = [(older, older_hash)]
    for document in stored:
        facts = read_checkpoint(document)
        if facts is not None:
            steps.append((facts, document_hash(document)))
    steps.append((newer, ""))
    problems: list[Problem] = []
    for (before, before_hash), (after, _after_hash) in itertools.pairwise(steps):
        if after.number != before.number + 1 or after.previous != before_hash:
            return [
                _problem(
                    "chain",
                    _(
                        "the checkpoints between #%(older)s and #%(newer)s do not link up at "
                        "#%(number)s"
                    ),
                    older=older.number,
                    newer=newer.number,
                    number=after.number,
                )
            ]
        problems.extend(check_consistency(before, after))
    return problems


# One case's place in a checkpoint -------------------------------------------------------


def inclusion_proof(case: Case) -> dict[str, Any] | None:
    """Where the case stands in the latest checkpoint that holds it: the leaf and the audit
    path to the root; None when no checkpoint holds it yet."""
    latest = Checkpoint.objects.order_by("-number").first()
    if latest is None:
        return None
    leaves = _in_tree_order(latest.document["leaves"])
    index = next((i for i, leaf in enumerate(leaves) if leaf[:2] == ["case", case.reference]), None)
    if index is None:
        return None
    hashes = [leaf_hash(leaf) for leaf in leaves]
    return {
        "number": latest.number,
        "hash": latest.hash,
        "root": latest.root,
        "size": len(leaves),
        "index": index,
        "leaf": leaves[index],
        "path": [h.hex() for h in audit_path(index, hashes)],
    }


def reader_view(checkpoint: Checkpoint, references: set[str]) -> dict[str, Any]:
    """What a reader of some cases gets of a checkpoint: its header and the proofs of the
    cases named by `references` that it holds, signed; `SigningKeyMissing` without a key."""
    document = checkpoint.document
    leaves = _in_tree_order(document["leaves"])
    wanted = [
        i for i, leaf in enumerate(leaves) if leaf[0] == "case" and str(leaf[1]) in references
    ]
    paths = audit_paths(wanted, [leaf_hash(leaf) for leaf in leaves])
    return sign(
        {
            "format": VIEW_FORMAT,
            "version": VIEW_VERSION,
            "checkpoint": {k: document[k] for k in HEADER if k in document},
            "hash": checkpoint.hash,
            "proofs": [
                {"index": i, "leaf": leaves[i], "path": [h.hex() for h in paths[i]]} for i in wanted
            ],
        }
    )


def is_view(document: Any) -> bool:
    return isinstance(document, dict) and document.get("format") == VIEW_FORMAT


def read_view(document: Any) -> tuple[CheckpointFacts, str, list[Problem]] | None:
    """A reader's view as the facts of its checkpoint (the leaves: the cases it proves), the
    checkpoint's hash and the problems of its proofs; None when it is not a view. Its
    signature is checked by the caller, as a checkpoint's."""
    try:
        if document.get("version") != VIEW_VERSION:
            return None
        header = document["checkpoint"]
        proofs = [
            (int(p["index"]), list(p["leaf"]), [bytes.fromhex(h) for h in p["path"]])
            for p in document["proofs"]
        ]
        facts = CheckpointFacts(
            number=int(header["number"]),
            created_at=str(header["created_at"]),
            previous=str(header["previous"]),
            root=str(header["root"]),
            size=int(header["size"]),
            leaves={"cases": [leaf for _index, leaf, _path in proofs]},
            counts={k: int(v) for k, v in header["counts"].items()},
        )
        checkpoint_hash = str(document["hash"])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    problems = []
    for index, leaf, path in proofs:
        computed = root_from_path(index, facts.size, leaf_hash(leaf), path)
        if leaf[:1] != ["case"] or computed is None or computed.hex() != facts.root:
            problems.append(
                _problem(
                    "inclusion",
                    _("the checkpoint proof does not lead to the root it names"),
                    leaf_label(leaf) if len(leaf) > 1 else "-",
                )
            )
    return facts, checkpoint_hash, problems


def check_inclusion(
    reference: str,
    event_hashes: list[str],
    proof: Any,
    checkpoint: CheckpointFacts | None,
) -> list[Problem]:
    """That an export's events are in the checkpoint its proof names: the leaf is this case
    at a length the export reaches with the same head, the path leads to the root, and the
    root is the one of the checkpoint the verifier holds (when given)."""
    try:
        leaf = list(proof["leaf"])
        index, size, root = int(proof["index"]), int(proof["size"]), str(proof["root"])
        path = [bytes.fromhex(h) for h in proof["path"]]
        number = int(proof["number"])
    except (KeyError, TypeError, ValueError):
        return [_problem("inclusion", _("the checkpoint proof is unreadable"), reference)]
    problems: list[Problem] = []
    length = int(leaf[2]) if len(leaf) == 4 and str(leaf[2]).isdigit() else -1
    if (
        leaf[:2] != ["case", reference]
        or not 0 <= length <= len(event_hashes)
        or (length and event_hashes[length - 1] != leaf[3])
    ):
        problems.append(
            _problem(
                "inclusion",
                _("the checkpoint proof is not about this trail"),
                reference,
            )
        )
    computed = root_from_path(index, size, leaf_hash(leaf), path)
    if computed is None or computed.hex() != root:
        problems.append(
            _problem(
                "inclusion",
                _("the checkpoint proof does not lead to the root it names"),
                reference,
            )
        )
    if checkpoint is not None and (checkpoint.number != number or checkpoint.root != root):
        problems.append(
            _problem(
                "inclusion",
                _(
                    "the proof is for checkpoint #%(number)s, root %(root)s; the checkpoint "
                    "given is #%(given)s, root %(given_root)s"
                ),
                reference,
                number=number,
                root=root,
                given=checkpoint.number,
                given_root=checkpoint.root,
            )
        )
    return problems


def report_of(problems: list[Problem], facts: CheckpointFacts) -> Report:
    return Report(cases=len(facts.cases), events=facts.counts.get("events", 0), problems=problems)
