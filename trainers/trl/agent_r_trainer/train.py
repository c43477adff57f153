"""One iteration's training: TRL SFTTrainer on agent-r's TRL export with Agent-R's mask.

Hyper-parameters default to the paper's (Agent-R s.5: lr 2e-5, cosine schedule, 3% warm-up,
3 epochs in iteration 1 and 1 in later ones); --tiny uses a larger learning rate, since its
model starts from random weights.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .mask import MaskReport, check_mask, pair_records


@dataclass
class HyperParams:
    learning_rate: float = 2e-5
    lr_scheduler_type: str = "cosine"
    warmup_ratio: float = 0.03
    epochs_first: float = 3.0
    epochs_next: float = 1.0
    batch_size: int = 1
    grad_accum: int = 1
    max_length: int | None = None
    seed: int = 0
    gradient_checkpointing: bool = False

    def epochs_for(self, index: int) -> float:
        return self.epochs_first if index <= 1 else self.epochs_next


TINY_HYPER_PARAMS = HyperParams(learning_rate=1e-3, batch_size=4)


def read_jsonl(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@dataclass
class TrainResult:
    checkpoint: Path
    steps: int
    train_loss: float | None
    seconds: float
    mask: MaskReport
    epochs: float


def sft_config(out_dir: Path, hp: HyperParams, epochs: float):
    import torch
    from trl import SFTConfig

    gpu = torch.cuda.is_available()
    return SFTConfig(
        output_dir=str(out_dir / "trainer-state"),
        num_train_epochs=epochs,
        learning_rate=hp.learning_rate,
        lr_scheduler_type=hp.lr_scheduler_type,
        warmup_steps=hp.warmup_ratio,  # a float below 1 is a ratio of the total steps
        per_device_train_batch_size=hp.batch_size,
        gradient_accumulation_steps=hp.grad_accum,
        gradient_checkpointing=hp.gradient_checkpointing,
        # Agent-R's mask: the completion (from the first trained turn on) AND the assistant's
        # generated tokens ({% generation %} in the chat template).
        completion_only_loss=True,
        assistant_only_loss=True,
        max_length=hp.max_length,
        packing=False,
        bf16=gpu and torch.cuda.is_bf16_supported(),
        use_cpu=not gpu,
        seed=hp.seed,
        data_seed=hp.seed,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )


def train_iteration(
    base_dir: Path,
    trl_rows: list[dict],
    natives: list[dict],
    out_dir: Path,
    hp: HyperParams,
    index: int,
) -> TrainResult:
    """Trains base_dir's model on the rows and saves the checkpoint (model + tokenizer) to out_dir.
    Before training, the mask of every prepared row is checked against the native records; a
    mismatch stops the job (nothing is trained with a wrong mask)."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTTrainer

    started = time.monotonic()
    paired = pair_records(trl_rows, natives)
    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype="auto")
    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in trl_rows])
    epochs = hp.epochs_for(index)
    trainer = SFTTrainer(
        model=model,
        args=sft_config(out_dir, hp, epochs),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    prepared = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    report = check_mask(tokenizer, prepared, paired)
    if not report.ok:
        raise RuntimeError(f"the loss mask does not match Agent-R's: {report.mismatches[:3]}")
    output = trainer.train()
    out_dir.mkdir(parents=True, exist_ok=True)
    trainer.save_model(str(out_dir))
    tokenizer.save_pretrained(out_dir)
    return TrainResult(
        checkpoint=out_dir,
        steps=output.global_step,
        train_loss=output.training_loss,
        seconds=time.monotonic() - started,
        mask=report,
        epochs=epochs,
    )


def write_checkpoint_manifest(out_dir: Path, manifest: dict) -> None:
    (out_dir / "agent-r-checkpoint.json").write_text(json.dumps(manifest, indent=2) + "\n")


def hyper_params_dict(hp: HyperParams, index: int) -> dict:
    return {**asdict(hp), "epochs": hp.epochs_for(index)}
