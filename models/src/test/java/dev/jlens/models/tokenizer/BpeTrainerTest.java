package dev.jlens.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.jlens.engine.JlensException;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTrainerTest {
    private static final Path SHARED = Shared.path("");

    @TempDir
    Path dir;

    static List<String> corpus() throws IOException {
        return new ArrayList<>(VariedText.documents(Path.of("..").toAbsolutePath().normalize(), SHARED.resolve("seeds"), 60_000));
    }

    /** The textbook algorithm, with nothing kept between merges: count every pair of every word, merge the most frequent. */
    static List<String> naiveMerges(List<String> texts, int merges) {
        Map<String, Long> frequency = new LinkedHashMap<>();
        for (String text : texts) {
            for (String segment : text.split(java.util.regex.Pattern.quote(Tokenizer.END_OF_TEXT), -1)) {
                Matcher m = PreTokenizer.GPT2_WORDS.matcher(segment);
                while (m.find()) frequency.merge(m.group(), 1L, Long::sum);
            }
        }
        List<List<String>> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        frequency.forEach((w, n) -> {
            List<String> symbols = new ArrayList<>();
            for (byte b : w.getBytes(StandardCharsets.UTF_8)) symbols.add(String.valueOf(ByteLevel.charOf(b)));
            words.add(symbols);
            counts.add(n);
        });
        List<String> out = new ArrayList<>();
        for (int step = 0; step < merges; step++) {
            Map<List<String>, Long> pairs = new LinkedHashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pairs.merge(List.of(s.get(i), s.get(i + 1)), counts.get(w), Long::sum);
            }
            List<String> best = null;
            long bestCount = 0;
            for (Map.Entry<List<String>, Long> e : pairs.entrySet()) {
                String merged = e.getKey().get(0) + e.getKey().get(1);
                if (e.getValue() > bestCount || (e.getValue() == bestCount && merged.compareTo(best.get(0) + best.get(1)) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) break;
            out.add(best.get(0) + " " + best.get(1));
            for (List<String> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(best.get(0)) && s.get(i + 1).equals(best.get(1))) {
                        s.set(i, best.get(0) + best.get(1));
                        s.remove(i + 1);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void learnsTheSameMergesAsTheTextbookAlgorithm() throws IOException {
        List<String> texts = corpus();
        BpeTrainer.Vocabulary v = BpeTrainer.train(texts, 257 + 400);
        List<String> merges = v.merges().stream().map(m -> m[0] + " " + m[1]).toList();
        assertEquals(400, merges.size());
        assertEquals(naiveMerges(texts, 400), merges);
    }

    @Test
    void writesATokenizerJsonThatHuggingFaceTokenizersReadsToTheSameIds() throws IOException {
        List<String> texts = corpus();
        BpeTrainer.Vocabulary v = BpeTrainer.train(texts, 1024);
        v.write(dir);
        Tokenizer ours = Tokenizer.fromTokenizerJson(dir.resolve("tokenizer.json"));
        List<String> tokens = v.tokens();
        assertEquals(1024, tokens.size());
        assertEquals(tokens.size(), new HashSet<>(tokens).size(), "every token is distinct");
        assertEquals(1023, ours.bosToken(), "<|endoftext|> comes last, as in GPT-2");
        long chars = 0;
        try (HuggingFaceTokenizer reference = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"))) {
            for (String doc : texts) {
                String text = doc + Tokenizer.END_OF_TEXT + doc.substring(0, Math.min(40, doc.length()));
                int[] expected = Arrays.stream(reference.encode(text, false, false).getIds()).mapToInt(Math::toIntExact).toArray();
                int[] ids = ours.encode(text);
                assertArrayEquals(expected, ids, () -> "tokenization differs on: " + doc.substring(0, Math.min(200, doc.length())));
                assertEquals(text, ours.decode(ids));
                chars += text.length();
            }
        }
        assertTrue(chars > 50_000, "compared " + chars + " characters");
    }

    @Test
    void stopsWhenEveryWordIsOneTokenAndRefusesAVocabularyTooSmallForTheBytes() {
        BpeTrainer.Vocabulary v = BpeTrainer.train(List.of("ab ab ab"), 4096);
        assertEquals(List.of("a b", "Ġ ab"), v.merges().stream().map(m -> m[0] + " " + m[1]).toList());
        assertEquals(259, v.vocabSize());
        assertThrows(JlensException.class, () -> BpeTrainer.train(List.of("x"), 256));
    }
}
