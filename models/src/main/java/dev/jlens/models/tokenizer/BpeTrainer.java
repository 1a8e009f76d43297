package dev.jlens.models.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Outputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;

/**
 * Learns a byte-level BPE vocabulary as GPT-2's was learnt: texts are split into words by GPT-2's
 * pre-tokenizer, every word starts as its bytes, and the most frequent adjacent pair (ties to the
 * pair whose merged string sorts first) is merged, again and again, until the vocabulary is full.
 * The 256 byte tokens come first, then the merges in order, then {@code <|endoftext|>}, last as in
 * GPT-2. Pair counts are kept up to date word by word, so a merge costs the words it touches.
 */
public final class BpeTrainer {
    private BpeTrainer() {}

    /** The result: the merges in rank order; ids are 256 + rank, and {@code <|endoftext|>} is {@code vocabSize - 1}. */
    public record Vocabulary(List<String[]> merges, int vocabSize) {
        /** The 256 byte tokens, the merged tokens, then {@code <|endoftext|>}. */
        public List<String> tokens() {
            List<String> tokens = new ArrayList<>(vocabSize);
            for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteLevel.charOf((byte) b)));
            for (String[] m : merges) tokens.add(m[0] + m[1]);
            tokens.add(Tokenizer.END_OF_TEXT);
            return tokens;
        }

        /** GPT-2's first {@code vocabSize} − 257 merges (each built of earlier ones), as a vocabulary of {@code vocabSize} tokens. */
        public static Vocabulary gpt2Merges(int vocabSize) {
            List<String[]> merges = new ArrayList<>();
            try (var in = Tokenizer.class.getResourceAsStream("gpt2/merges.txt")) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (merges.size() == vocabSize - 257) break;
                    if (!line.startsWith("#version") && !line.isBlank()) merges.add(line.strip().split(" "));
                }
            } catch (IOException e) {
                throw new IllegalStateException("jlens's bundled GPT-2 merges cannot be read", e);
            }
            if (merges.size() != vocabSize - 257) {
                throw new JlensException("GPT-2's merges make at most " + (merges.size() + 257) + " tokens, not " + vocabSize + ".");
            }
            return new Vocabulary(merges, vocabSize);
        }

        public Tokenizer tokenizer() {
            return Tokenizer.fromTokenizerJson(toJson(), "trained tokenizer");
        }

        /** A Hugging Face {@code tokenizer.json} (BPE model, ByteLevel pre-tokenizer and decoder). */
        public String toJson() {
            ObjectMapper json = new ObjectMapper();
            ObjectNode root = json.createObjectNode();
            root.put("version", "1.0");
            root.putNull("truncation");
            root.putNull("padding");
            ObjectNode eot = root.putArray("added_tokens").addObject();
            eot.put("id", vocabSize - 1).put("content", Tokenizer.END_OF_TEXT).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
            root.putNull("normalizer");
            root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                    .put("use_regex", true);
            root.putNull("post_processor");
            root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true)
                    .put("use_regex", true);
            ObjectNode model = root.putObject("model");
            model.put("type", "BPE").putNull("dropout").putNull("unk_token").putNull("continuing_subword_prefix")
                    .putNull("end_of_word_suffix").put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
            ObjectNode vocab = model.putObject("vocab");
            List<String> tokens = tokens();
            for (int id = 0; id < tokens.size(); id++) vocab.put(tokens.get(id), id);
            ArrayNode merged = model.putArray("merges");
            for (String[] m : merges) merged.addArray().add(m[0]).add(m[1]);
            try {
                return json.writerWithDefaultPrettyPrinter().writeValueAsString(root);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Writes {@code tokenizer.json} into {@code dir}, atomically. */
        public void write(Path dir) {
            Path file = dir.resolve("tokenizer.json");
            try {
                Path tmp = Outputs.temporaryFileBeside(file);
                Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
                Outputs.publishFile(tmp, file, true);
            } catch (IOException e) {
                throw new JlensException("cannot write " + file + " (" + JlensException.describe(e) + ").", e);
            }
        }
    }

    /** Learns {@code vocabSize - 257} merges from {@code texts} ({@code <|endoftext|>} in them is not learnt from). */
    public static Vocabulary train(Iterable<String> texts, int vocabSize) {
        if (vocabSize < 257) throw new JlensException("a byte-level vocabulary needs at least 257 tokens (256 bytes and <|endoftext|>), not " + vocabSize + ".");
        Words words = Words.count(texts);
        List<String[]> merges = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int b = 0; b < 256; b++) names.add(String.valueOf(ByteLevel.charOf((byte) b)));
        while (names.size() < vocabSize - 1) {
            long best = words.mostFrequentPair(names);
            if (best == NONE) break; // every word is one token: nothing left to merge
            int left = (int) (best >>> 32), right = (int) best, merged = names.size();
            merges.add(new String[] {names.get(left), names.get(right)});
            names.add(names.get(left) + names.get(right));
            words.merge(left, right, merged);
        }
        return new Vocabulary(merges, merges.size() + 257);
    }

    private static final long NONE = -1;

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    /** The distinct words with their counts, each as its current symbols, and the counts of every adjacent pair. */
    private static final class Words {
        private final List<int[]> symbols = new ArrayList<>();
        private final List<Long> counts = new ArrayList<>();
        private final Map<Long, Long> pairCounts = new HashMap<>();
        private final Map<Long, Set<Integer>> wordsWithPair = new HashMap<>();

        static Words count(Iterable<String> texts) {
            Map<String, Long> frequency = new LinkedHashMap<>();
            for (String text : texts) {
                for (String segment : text.split(java.util.regex.Pattern.quote(Tokenizer.END_OF_TEXT), -1)) {
                    Matcher m = PreTokenizer.GPT2_WORDS.matcher(segment);
                    while (m.find()) frequency.merge(m.group(), 1L, Long::sum);
                }
            }
            Words words = new Words();
            frequency.forEach((word, n) -> {
                byte[] bytes = word.getBytes(StandardCharsets.UTF_8);
                int[] s = new int[bytes.length];
                for (int i = 0; i < bytes.length; i++) s[i] = bytes[i] & 0xff;
                words.symbols.add(s);
                words.counts.add(n);
                words.addPairs(words.symbols.size() - 1, +1);
            });
            return words;
        }

        private void addPairs(int word, int sign) {
            int[] s = symbols.get(word);
            long n = counts.get(word) * sign;
            for (int i = 0; i + 1 < s.length; i++) {
                long p = pair(s[i], s[i + 1]);
                pairCounts.merge(p, n, Long::sum);
                if (sign > 0) wordsWithPair.computeIfAbsent(p, k -> new HashSet<>()).add(word);
            }
        }

        long mostFrequentPair(List<String> names) {
            long best = NONE, bestCount = 0;
            String bestString = null;
            for (Map.Entry<Long, Long> e : pairCounts.entrySet()) {
                long c = e.getValue();
                if (c <= 0 || c < bestCount) continue;
                long p = e.getKey();
                String merged = names.get((int) (p >>> 32)) + names.get((int) p);
                if (c > bestCount || merged.compareTo(bestString) < 0) {
                    best = p;
                    bestCount = c;
                    bestString = merged;
                }
            }
            return best;
        }

        /** Replaces every non-overlapping occurrence of (left, right), leftmost first, as encoding will. */
        void merge(int left, int right, int merged) {
            Set<Integer> affected = wordsWithPair.remove(pair(left, right));
            for (int word : affected) {
                addPairs(word, -1);
                int[] s = symbols.get(word);
                int[] out = new int[s.length];
                int n = 0;
                for (int i = 0; i < s.length; i++) {
                    if (i + 1 < s.length && s[i] == left && s[i + 1] == right) {
                        out[n++] = merged;
                        i++;
                    } else {
                        out[n++] = s[i];
                    }
                }
                symbols.set(word, java.util.Arrays.copyOf(out, n));
                addPairs(word, +1);
            }
            pairCounts.remove(pair(left, right));
        }
    }
}
