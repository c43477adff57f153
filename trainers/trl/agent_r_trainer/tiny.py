"""The --tiny base model: a 2-layer Llama-shaped model built from a config and a byte-level BPE
tokenizer trained on the first dataset's own text, with a chat template that marks what the
assistant generates ({% generation %}), so TRL's assistant_only_loss can find those tokens.
Built locally: nothing is downloaded. For tests and demos; it learns little."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

END = "<|end|>"
PAD = "<|pad|>"
BOS = "<|begin|>"
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]

# Every turn is "<|role|>\n<content><|end|>". The assistant's content and its <|end|> sit inside
# {% generation %} (the tokens the model is trained to produce, including when to stop); the role
# header does not. The generation prompt is the assistant header alone.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] == 'assistant' -%}"
    "{{ '<|assistant|>\n' }}{% generation %}{{ message['content'] + '<|end|>' }}{% endgeneration %}"
    "{%- else -%}"
    "{{ '<|' + message['role'] + '|>\n' + message['content'] + '<|end|>' }}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|assistant|>\n' }}{%- endif -%}"
)

TINY_VOCAB = 2048


def train_tokenizer(texts: Iterable[str], vocab_size: int = TINY_VOCAB):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, BOS, END, *ROLE_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=END,
        pad_token=PAD,
        additional_special_tokens=ROLE_TOKENS,
        chat_template=CHAT_TEMPLATE,
        model_max_length=1 << 20,
    )


def build_model(tokenizer, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=16384,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config)


def texts_of(records: Iterable[dict]) -> Iterable[str]:
    """Every message text of TRL prompt/completion records (the tokenizer's training text)."""
    for record in records:
        for message in [*record.get("prompt", []), *record.get("completion", []), *record.get("messages", [])]:
            yield message["content"]


def build_tiny_base(records: list[dict], out_dir: Path, seed: int = 0) -> Path:
    """Writes the tiny base model and tokenizer to out_dir and returns it."""
    tokenizer = train_tokenizer(texts_of(records))
    model = build_model(tokenizer, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
