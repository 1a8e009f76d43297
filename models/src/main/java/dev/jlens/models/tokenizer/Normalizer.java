package dev.jlens.models.tokenizer;

import java.text.Normalizer.Form;
import java.util.List;

/** Hugging Face's normalizers that the supported tokenizers use: NFC, a string replacement, a sequence of them. */
sealed interface Normalizer {
    String apply(String text);

    Normalizer NONE = new Sequence(List.of());

    /** Unicode canonical composition (GPT-NeoX, Qwen): "e" + U+0301 becomes "é". */
    record Nfc() implements Normalizer {
        @Override
        public String apply(String text) {
            return java.text.Normalizer.normalize(text, Form.NFC);
        }
    }

    /** Every occurrence of a string replaced by another (Gemma: " " by "▁"). */
    record Replace(String pattern, String content) implements Normalizer {
        @Override
        public String apply(String text) {
            return text.replace(pattern, content);
        }
    }

    record Sequence(List<Normalizer> steps) implements Normalizer {
        @Override
        public String apply(String text) {
            for (Normalizer n : steps) text = n.apply(text);
            return text;
        }
    }
}
