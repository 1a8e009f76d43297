package dev.jlens.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jlens.models.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/** tokenizer.json, and vocab.json with merges.txt; a tokenizer that loads must also encode and decode. */
class TokenizerFuzzTest {
    private static final Path DIR = Refusals.scratch("tokenizer");
    private static final String TEXT = "The Eiffel Tower is in Paris.<|endoftext|> Élise a mangé une pomme 🍎 — 東京\n\n  x";

    @FuzzTest
    void tokenizerJson(byte[] bytes) {
        Refusals.readOrRefuse(() -> {
            Path file = DIR.resolve("tokenizer.json");
            Files.write(file, bytes);
            exercise(Tokenizer.fromTokenizerJson(file));
        });
    }

    /** The input is vocab.json, a NUL byte, then merges.txt. */
    @FuzzTest
    void vocabAndMerges(byte[] bytes) {
        Refusals.readOrRefuse(() -> {
            int split = 0;
            while (split < bytes.length && bytes[split] != 0) split++;
            Path vocab = DIR.resolve("vocab.json"), merges = DIR.resolve("merges.txt");
            Files.write(vocab, Arrays.copyOfRange(bytes, 0, split));
            Files.write(merges, Arrays.copyOfRange(bytes, Math.min(bytes.length, split + 1), bytes.length));
            exercise(Tokenizer.fromVocabAndMerges(vocab, merges));
        });
    }

    private static void exercise(Tokenizer tokenizer) {
        int[] ids = tokenizer.encode(TEXT);
        tokenizer.decode(ids);
    }
}
