package dev.jlens.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import dev.jlens.engine.JlensException;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class Gpt2TokenizerTest {
    private static final Path SHARED = Shared.path("");
    private final Tokenizer gpt2 = Tokenizer.gpt2();

    @Test
    void identicalIdsToJtokkitOnOverAMegabyteOfVariedText() throws IOException {
        Encoding reference = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        List<String> docs = VariedText.documents(Path.of("..").toAbsolutePath().normalize(), SHARED.resolve("seeds"), 1_100_000);
        long chars = 0, tokens = 0;
        for (String doc : docs) {
            // jtokkit's encodeOrdinary has no special tokens; ours cuts <|endoftext|> out first, so compare between them.
            for (String piece : doc.split(java.util.regex.Pattern.quote(Tokenizer.END_OF_TEXT), -1)) {
                int[] expected = reference.encodeOrdinary(piece).toArray();
                int[] actual = gpt2.encode(piece);
                assertArrayEquals(expected, actual, () -> "tokenization differs on: " + abbreviate(piece));
                assertEquals(piece, gpt2.decode(actual), "decode(encode(text)) == text");
                chars += piece.length();
                tokens += actual.length;
            }
        }
        assertTrue(chars >= 1_000_000, "compared " + chars + " characters");
        assertTrue(tokens > 200_000, "compared " + tokens + " tokens");
    }

    @Test
    void notebook003TokenizationsComeOutExactly() {
        String prompt = "I climbed up the pear tree and picked a pear. I climbed up the apple tree and picked";
        assertEquals(List.of("<|endoftext|>", "I", " climbed", " up", " the", " pear", " tree", " and", " picked", " a", " pear",
                ".", " I", " climbed", " up", " the", " apple", " tree", " and", " picked"),
                gpt2.toStrTokens(gpt2.toTokens(prompt, true)));
        assertEquals(List.of(" an"), gpt2.toStrTokens(gpt2.toTokens(" an", false)));
        assertEquals(List.of("<|endoftext|>", "\n", "Arc", " 1", "\n", "Chapter", " 1", ":", " Good", " Morning", " Brother"),
                gpt2.toStrTokens(gpt2.toTokens("\nArc 1\nChapter 1: Good Morning Brother", true)));
    }

    @Test
    void endOfTextIsBosAndRecognisedInText() {
        assertEquals(50256, gpt2.bosToken());
        assertArrayEquals(new int[] {40, 50256, 40}, gpt2.encode("I<|endoftext|>I"));
        assertEquals("I<|endoftext|>I", gpt2.decode(40, 50256, 40));
    }

    @Test
    void singleTokensAndTheirErrors() {
        assertEquals(281, gpt2.toSingleToken(" an"));
        assertEquals(257, gpt2.toSingleToken(" a"));
        JlensException e = assertThrows(JlensException.class, () -> gpt2.toSingleToken(" antidisestablishment"));
        assertTrue(e.getMessage().startsWith("' antidisestablishment' is not a single token: it is "), e.getMessage());
    }

    @Test
    void readsTheSameTokenizerFromItsFiles() {
        Tokenizer fromFiles = Tokenizer.fromVocabAndMerges(SHARED.resolve("tokenizers/gpt2/vocab.json"),
                SHARED.resolve("tokenizers/gpt2/merges.txt"));
        String text = "Hello world, it's 2026!  \n\tTabs and emoji 👍🏽.";
        assertArrayEquals(gpt2.encode(text), fromFiles.encode(text));
    }

    private static String abbreviate(String s) {
        return s.length() <= 300 ? s : s.substring(0, 300) + "...";
    }
}
