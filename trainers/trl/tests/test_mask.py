"""The proof that TRL trains on exactly Agent-R's mask: the tokens SFTTrainer keeps in the loss
(labels != -100), decoded, are the native records' `loss: true` turns, text for text."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_r_trainer.mask import check_mask, label_spans, pair_records, trained_turns
from agent_r_trainer.tiny import END
from agent_r_trainer.train import TINY_HYPER_PARAMS, sft_config


def prepared_rows(base: Path, rows: list[dict], out: Path, **overrides) -> tuple[object, list[dict]]:
    """The dataset as SFTTrainer prepares it (input_ids, labels) with our SFTConfig."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    tokenizer = AutoTokenizer.from_pretrained(base)
    config = sft_config(out, TINY_HYPER_PARAMS, 1)
    for key, value in overrides.items():
        setattr(config, key, value)
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(base),
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
    )
    return tokenizer, [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]


def test_trained_tokens_are_the_loss_true_turns_text_for_text(records, tiny_base, tmp_path):
    trl_rows, natives = records
    paired = pair_records(trl_rows, natives)
    tokenizer, prepared = prepared_rows(tiny_base, trl_rows, tmp_path)
    kinds = {n["kind"] for n in paired[:6]}
    assert kinds == {"revision", "good"}, "the first records cover both kinds"

    # A few records by hand: every run of trained tokens decodes to one loss:true turn + <|end|>.
    for row, native in zip(prepared[:6], paired[:6], strict=True):
        spans = [tokenizer.decode(s, skip_special_tokens=False) for s in label_spans(row["input_ids"], row["labels"])]
        assert spans == [content + END for content in trained_turns(native)]
        untrained = [m["content"] for m in native["revise_log"] if m["role"] == "assistant" and not m.get("loss")]
        assert untrained, "each record has untrained assistant turns (the acknowledgement, the bad prefix)"
        for text in untrained:
            assert all(text not in s or text in trained_turns(native) for s in spans)

    # The revision record's reflection is trained, its bad steps are not.
    revision = next(i for i, n in enumerate(paired) if n["kind"] == "revision" and n["first_error_step"] > 0)
    log = paired[revision]["revise_log"]
    bad = [m["content"] for m in log if m["role"] == "assistant" and m.get("loss") is False][1:]
    spans = [tokenizer.decode(s) for s in label_spans(prepared[revision]["input_ids"], prepared[revision]["labels"])]
    assert bad and not any(b in s for b in bad for s in spans)
    assert spans[0].startswith("Thought:") and spans[0].endswith(f"Action: wait{END}")

    # Every record.
    report = check_mask(tokenizer, prepared, paired)
    assert report.ok, report.mismatches[:3]
    assert report.records == len(trl_rows) and report.end_marker == END
    assert report.trained_turns == sum(len(trained_turns(n)) for n in paired)
    assert 0 < report.trained_tokens < report.total_tokens


def test_the_check_catches_a_wrong_mask(records, tiny_base, tmp_path):
    trl_rows, natives = records
    paired = pair_records(trl_rows, natives)
    # Without assistant_only_loss the observations and "ok." inside the completion are trained.
    tokenizer, prepared = prepared_rows(tiny_base, trl_rows, tmp_path, assistant_only_loss=False)
    report = check_mask(tokenizer, prepared, paired)
    assert not report.ok
    assert any("trained spans" in m for m in report.mismatches)
    # Whole conversations ("messages") with assistant_only_loss train the bad prefix too.
    as_messages = [{"messages": r["prompt"] + r["completion"]} for r in trl_rows]
    tokenizer, prepared = prepared_rows(tiny_base, as_messages, tmp_path, completion_only_loss=None)
    report = check_mask(tokenizer, prepared, paired)
    assert len(report.mismatches) == len(trl_rows), "every record: the root acknowledgement at least is trained"


def test_records_are_paired_with_their_native_records(records):
    trl_rows, natives = records
    with pytest.raises(ValueError, match="TRL records but"):
        pair_records(trl_rows[1:], natives)
    swapped = [trl_rows[1], trl_rows[0], *trl_rows[2:]]
    with pytest.raises(ValueError, match="is not native record"):
        pair_records(swapped, natives)
