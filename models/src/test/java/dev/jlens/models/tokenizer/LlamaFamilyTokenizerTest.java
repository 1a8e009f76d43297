package dev.jlens.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The tokenizers of today's open models against Hugging Face's {@code tokenizers} (DJL): Llama 3
 * and Qwen3 (a Split regex before byte-level BPE, Llama 3's whole-word ignore_merges, Qwen's NFC),
 * and Gemma 3 (SentencePiece-style BPE over ▁-spaced text with byte fallback, thousands of added
 * tokens), each on over a megabyte of varied text with their special tokens written into it.
 */
class LlamaFamilyTokenizerTest {
    private static final Path TOKENIZERS = Shared.path("tokenizers");

    @ParameterizedTest
    @CsvSource({
        "llama-3, <|begin_of_text|>, <|eot_id|>",
        "qwen3, <|im_start|>, <tool_call>",
        "gemma-3, <start_of_turn>, <unused7>",
    })
    void identicalIdsToHuggingFaceTokenizersOnOverAMegabyteOfVariedText(String name, String special, String other) throws IOException {
        Path file = TOKENIZERS.resolve(name).resolve("tokenizer.json");
        Tokenizer ours = Tokenizer.fromTokenizerJson(file);
        List<String> docs = withSpecialTokens(VariedText.documents(Path.of("..").toAbsolutePath().normalize(), Shared.path("seeds"), 1_100_000),
                special, other);
        long chars = 0;
        try (HuggingFaceTokenizer reference = HuggingFaceTokenizer.newInstance(file,
                Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"))) {
            for (String doc : docs) {
                int[] expected = Arrays.stream(reference.encode(doc, false, false).getIds()).mapToInt(Math::toIntExact).toArray();
                int[] actual = ours.encode(doc);
                assertArrayEquals(expected, actual, () -> name + " differs on: " + doc.substring(0, Math.min(300, doc.length())));
                long[] asLongs = Arrays.stream(actual).asLongStream().toArray();
                assertEquals(reference.decode(asLongs, false), ours.decode(actual), () -> name + " decodes differently: " + doc.substring(0, 100));
                chars += doc.length();
            }
        }
        assertTrue(chars >= 1_000_000, "compared " + chars + " characters");
    }

    /** Every third document gets the tokenizer's special tokens written into it, at seeded places between characters. */
    private static List<String> withSpecialTokens(List<String> docs, String special, String other) {
        Random rng = new Random(7);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < docs.size(); i++) {
            String doc = docs.get(i);
            if (i % 3 == 0) {
                StringBuilder sb = new StringBuilder(doc);
                for (String token : new String[] {special, other, special + "user\n", " " + other + " "}) {
                    int at = rng.nextInt(sb.length() + 1);
                    // Never between the two halves of a surrogate pair: text read from UTF-8 cannot
                    // hold a lone surrogate, and DJL replaces it with U+FFFDs beyond the one character.
                    if (at > 0 && at < sb.length() && Character.isLowSurrogate(sb.charAt(at))) at--;
                    sb.insert(at, token);
                }
                doc = sb.toString();
            }
            out.add(doc);
        }
        return out;
    }

    @Test
    void theBosIsTheConfiguredOneAsTransformerLensTakesIt() {
        assertEquals(128000, Tokenizer.fromTokenizerJson(TOKENIZERS.resolve("llama-3/tokenizer.json")).bosToken()); // <|begin_of_text|>
        Tokenizer qwen = Tokenizer.fromTokenizerJson(TOKENIZERS.resolve("qwen3/tokenizer.json"));
        assertEquals("<|im_end|>", qwen.token(qwen.bosToken()), "no bos_token: TransformerLens uses the eos_token");
        Tokenizer gemma = Tokenizer.fromTokenizerJson(TOKENIZERS.resolve("gemma-3/tokenizer.json"));
        assertEquals(2, gemma.bosToken()); // <bos>
        assertEquals(List.of("<bos>", "The", " Eiffel", " Tower"), gemma.toStrTokens(gemma.toTokens("The Eiffel Tower", true)));
    }
}
