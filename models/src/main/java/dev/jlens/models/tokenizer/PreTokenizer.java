package dev.jlens.models.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face's pre-tokenizers that the supported tokenizers use: splitting text into the pieces
 * BPE merges within, and (ByteLevel) spelling each piece's UTF-8 bytes as {@link ByteLevel} characters.
 */
sealed interface PreTokenizer {
    /** Appends the pieces of {@code text} to {@code out}. */
    void split(String text, List<String> out);

    /** No splitting: the whole text is one piece (Gemma, once its normalizer has removed every space). */
    PreTokenizer NONE = new Sequence(List.of());

    /** GPT-2's regex: contractions, letters, digits, other symbols, each with one leading space; whitespace runs. */
    Pattern GPT2_WORDS = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    /** ByteLevel: optionally split by GPT-2's regex (use_regex), then each piece's bytes as characters. */
    record ByteLevelPieces(boolean useRegex) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            if (!useRegex) {
                out.add(bytes(text));
                return;
            }
            Matcher m = GPT2_WORDS.matcher(text);
            while (m.find()) out.add(bytes(m.group()));
        }

        static String bytes(String piece) {
            byte[] b = piece.getBytes(StandardCharsets.UTF_8);
            char[] chars = new char[b.length];
            for (int i = 0; i < b.length; i++) chars[i] = ByteLevel.charOf(b[i]);
            return new String(chars);
        }
    }

    /** What Split does with the matches of its pattern (Hugging Face's SplitDelimiterBehavior). */
    enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT }

    /** Split: cut at every match of a pattern; matches and the text between them become pieces as {@code behavior} says. */
    record Split(Pattern pattern, Behavior behavior) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            Matcher m = pattern.matcher(text);
            int last = 0;
            StringBuilder pending = null; // MERGED_WITH_NEXT: a match waiting for the text after it
            while (m.find()) {
                if (m.end() == m.start()) continue;
                String between = text.substring(last, m.start()), match = m.group();
                switch (behavior) {
                    case ISOLATED -> {
                        if (!between.isEmpty()) out.add(between);
                        out.add(match);
                    }
                    case REMOVED -> {
                        if (!between.isEmpty()) out.add(between);
                    }
                    case MERGED_WITH_PREVIOUS -> out.add(between + match);
                    case MERGED_WITH_NEXT -> {
                        String piece = (pending == null ? "" : pending) + between;
                        if (!piece.isEmpty()) out.add(piece);
                        pending = new StringBuilder(match);
                    }
                }
                last = m.end();
            }
            String rest = (pending == null ? "" : pending) + text.substring(last);
            if (!rest.isEmpty()) out.add(rest);
        }
    }

    /** Each step splits every piece the step before it made. */
    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public void split(String text, List<String> out) {
            List<String> pieces = List.of(text);
            for (PreTokenizer step : steps) {
                List<String> next = new ArrayList<>();
                for (String piece : pieces) step.split(piece, next);
                pieces = next;
            }
            out.addAll(pieces);
        }
    }
}
