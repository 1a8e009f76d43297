package dev.jlens.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NeoxTokenizerTest {
    private static final Path SHARED = Shared.path("");
    private static final Path FILE = SHARED.resolve("tokenizers/gpt-neox-20b/tokenizer.json");
    private final Tokenizer neox = Tokenizer.fromTokenizerJson(FILE);

    @Test
    void identicalIdsToHuggingFaceTokenizersOnOverAMegabyteOfVariedText() throws IOException {
        List<String> docs = VariedText.documents(Path.of("..").toAbsolutePath().normalize(), SHARED.resolve("seeds"), 1_100_000);
        long chars = 0;
        try (HuggingFaceTokenizer reference = HuggingFaceTokenizer.newInstance(FILE,
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"))) {
            for (String doc : docs) {
                int[] expected = Arrays.stream(reference.encode(doc, false, false).getIds()).mapToInt(Math::toIntExact).toArray();
                assertArrayEquals(expected, neox.encode(doc), () -> "tokenization differs on: " + doc.substring(0, Math.min(300, doc.length())));
                chars += doc.length();
            }
        }
        assertTrue(chars >= 1_000_000, "compared " + chars + " characters");
    }

    @Test
    void notebook001TokenizationsComeOutExactly() {
        assertEquals(List.of("<|endoftext|>", " Le", " liv", "re"), neox.toStrTokens(neox.toTokens(" Le livre", true)));
        assertEquals(List.of("<|endoftext|>", " The", " book", "store"), neox.toStrTokens(neox.toTokens(" The bookstore", true)));
        assertEquals(List.of("<|endoftext|>", "D", "ans", " un", " pet", "it", " village", ",", " viv", "ait", " une", " pet", "ite",
                " fil", "le", " nom", "m", "ée", " Sophie", " qui", " r", "ê", "v", "ait"),
                neox.toStrTokens(neox.toTokens("Dans un petit village, vivait une petite fille nommée Sophie qui rêvait", true)));
        assertEquals(0, neox.bosToken());
    }

    @Test
    void nfcNormalisesBeforeSplitting() {
        // "é" as e + combining acute must tokenize like the precomposed character.
        assertArrayEquals(neox.encode("caf\u00e9"), neox.encode("cafe\u0301"));
    }
}
