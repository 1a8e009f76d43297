package dev.jlens.models.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Hugging Face's decoders that the supported tokenizers use: token strings back to text. */
sealed interface Decoder {
    /** The tokens after this step (Fuse makes one of them). */
    List<String> decode(List<String> tokens);

    /** The text of the tokens: each step in turn, then their concatenation. */
    static String text(Decoder decoder, List<String> tokens) {
        return String.join("", decoder.decode(tokens));
    }

    /**
     * ByteLevel: each token's characters back to the bytes they stand for (a token with any other
     * character, an added token, as its own UTF-8), then all bytes as UTF-8, U+FFFD where invalid.
     */
    record ByteLevelBytes() implements Decoder {
        @Override
        public List<String> decode(List<String> tokens) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            for (String token : tokens) {
                byte[] mapped = new byte[token.length()];
                boolean all = true;
                for (int i = 0; i < token.length() && all; i++) {
                    int b = ByteLevel.byteOf(token.charAt(i));
                    all = b >= 0;
                    mapped[i] = (byte) b;
                }
                bytes.writeBytes(all ? mapped : token.getBytes(StandardCharsets.UTF_8));
            }
            return List.of(bytes.toString(StandardCharsets.UTF_8));
        }
    }

    /** Replace: a string by another in every token (Gemma: "▁" back to " "). */
    record Replace(String pattern, String content) implements Decoder {
        @Override
        public List<String> decode(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) out.add(t.replace(pattern, content));
            return out;
        }
    }

    /**
     * ByteFallback: runs of {@code <0xNN>} tokens become the text their bytes spell in UTF-8, or one
     * U+FFFD per byte where they do not spell valid UTF-8.
     */
    record ByteFallback() implements Decoder {
        @Override
        public List<String> decode(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            ByteArrayOutputStream run = new ByteArrayOutputStream();
            for (String t : tokens) {
                int b = byteOf(t);
                if (b >= 0) {
                    run.write(b);
                    continue;
                }
                flush(run, out);
                out.add(t);
            }
            flush(run, out);
            return out;
        }

        private static int byteOf(String token) {
            if (token.length() != 6 || !token.startsWith("<0x") || token.charAt(5) != '>') return -1;
            try {
                return Integer.parseInt(token.substring(3, 5), 16);
            } catch (NumberFormatException e) {
                return -1;
            }
        }

        private static void flush(ByteArrayOutputStream run, List<String> out) {
            if (run.size() == 0) return;
            byte[] bytes = run.toByteArray();
            run.reset();
            try {
                out.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString());
            } catch (CharacterCodingException e) {
                out.add("\uFFFD".repeat(bytes.length));
            }
        }
    }

    /** Fuse: all tokens as one string. */
    record Fuse() implements Decoder {
        @Override
        public List<String> decode(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    record Sequence(List<Decoder> steps) implements Decoder {
        @Override
        public List<String> decode(List<String> tokens) {
            for (Decoder d : steps) tokens = d.decode(tokens);
            return tokens;
        }
    }
}
