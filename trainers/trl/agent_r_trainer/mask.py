"""Agent-R's loss mask, checked on the tokens TRL actually trains on.

The companion trains on agent-r's TRL export (conversational prompt/completion: the prompt runs
up to the first trained turn, the completion is the rest) with completion_only_loss and
assistant_only_loss, so a token is trained only when it lies in the completion AND inside the
chat template's {% generation %} block of an assistant turn. That is exactly Agent-R's mask:
the reflection and the good suffix's actions of a revision record, every action of a good
trajectory; never the bad prefix, the observations, "ok." or the system/instruction turns.

check_mask decodes every run of consecutive labels != -100 of each prepared row and compares it,
text for text, with the native record's `loss: true` turns (same count, same order, each run =
that turn's content followed by the template's end-of-turn marker, the same marker for all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

IGNORE = -100


def trained_turns(native: dict) -> list[str]:
    """The contents of the native record's trained turns (assistant, loss true), in order."""
    return [
        m["content"] for m in native["revise_log"] if m.get("role") == "assistant" and m.get("loss") is True
    ]


def label_spans(input_ids: list[int], labels: list[int]) -> list[list[int]]:
    """Runs of consecutive trained positions (labels != -100), as token ids."""
    spans: list[list[int]] = []
    current: list[int] = []
    for token, label in zip(input_ids, labels, strict=True):
        if label == IGNORE:
            if current:
                spans.append(current)
                current = []
            continue
        if label != token:
            raise AssertionError(f"label {label} differs from its input token {token}")
        current.append(token)
    if current:
        spans.append(current)
    return spans


def _plain(messages: list[dict]) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in messages]


def pair_records(trl_rows: list[dict], natives: list[dict]) -> list[dict]:
    """The native record of each TRL row: the exporter keeps the order and drops records that
    train nothing; each pairing is checked (the same turns, up to the last assistant turn)."""
    trainable = [n for n in natives if trained_turns(n)]
    if len(trainable) != len(trl_rows):
        raise ValueError(
            f"{len(trl_rows)} TRL records but {len(trainable)} native records with a trained turn"
        )
    for i, (row, native) in enumerate(zip(trl_rows, trainable, strict=True)):
        log = native["revise_log"]
        end = len(log)
        while end > 0 and log[end - 1]["role"] != "assistant":
            end -= 1
        if _plain(row["prompt"] + row["completion"]) != _plain(log[:end]):
            raise ValueError(f"TRL record {i} is not native record {native.get('id')}")
    return trainable


@dataclass
class MaskReport:
    records: int = 0
    trained_turns: int = 0
    trained_tokens: int = 0
    total_tokens: int = 0
    end_marker: str | None = None
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.records > 0 and not self.mismatches

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "trainedTurns": self.trained_turns,
            "trainedTokens": self.trained_tokens,
            "totalTokens": self.total_tokens,
            "endMarker": self.end_marker,
            "mismatches": len(self.mismatches),
            "firstMismatch": self.mismatches[0] if self.mismatches else None,
        }


def check_mask(tokenizer, prepared: list[dict], natives: list[dict], limit: int | None = None) -> MaskReport:
    """Compares the decoded trained spans of `prepared` rows (input_ids, labels) with the paired
    native records' trained turns. `limit` checks only the first rows."""
    report = MaskReport()
    rows = prepared if limit is None else prepared[:limit]
    for i, (row, native) in enumerate(zip(rows, natives, strict=False)):
        report.records += 1
        spans = label_spans(list(row["input_ids"]), list(row["labels"]))
        texts = [tokenizer.decode(span, skip_special_tokens=False) for span in spans]
        expected = trained_turns(native)
        report.trained_turns += len(expected)
        report.trained_tokens += sum(len(s) for s in spans)
        report.total_tokens += len(row["input_ids"])
        where = f"record {i} ({native.get('id')})"
        if len(texts) != len(expected):
            report.mismatches.append(f"{where}: {len(texts)} trained spans, {len(expected)} trained turns")
            continue
        for j, (text, content) in enumerate(zip(texts, expected, strict=True)):
            if not text.startswith(content):
                report.mismatches.append(f"{where} turn {j}: trained {text!r}, expected {content!r}")
                continue
            marker = text[len(content) :]
            if report.end_marker is None:
                report.end_marker = marker
            stray = marker.strip() and marker.strip() not in tokenizer.all_special_tokens
            if marker != report.end_marker or stray:
                report.mismatches.append(f"{where} turn {j}: {content!r} is followed by {marker!r}")
    return report
