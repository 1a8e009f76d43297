package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.tokenizer.Tokenizer;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens tokenize}: one JSON array of ids on stdout, from a directory that holds only tokenizer files. */
class TokenizeCommandTest {
    @TempDir
    Path dir;

    @Test
    void aTokenizerOnlyDirectoryGivesOneJsonArrayBosFirst() throws IOException {
        Path tokenizer = Files.createDirectories(dir.resolve("qwen3"));
        for (String f : new String[] {"tokenizer.json", "tokenizer_config.json"}) Files.copy(Shared.path("tokenizers/qwen3/" + f), tokenizer.resolve(f));
        String text = "<|im_start|>user\nÉlise a mangé 12345 pommes 🍎\r\n\tdef f(x): return x<|im_end|>";
        Tokenizer expected = Tokenizer.fromTokenizerJson(tokenizer.resolve("tokenizer.json"));

        CommandLineRun withBos = CommandLineRun.of("tokenize", "--model", tokenizer.toString(), "--text", text);
        assertEquals(0, withBos.exitCode(), withBos.err());
        assertEquals(json(expected.toTokens(text, true)) + "\n", withBos.out(), "one line: the array and nothing else");

        Path file = dir.resolve("text.txt");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        CommandLineRun fromFile = CommandLineRun.of("tokenize", "--model", tokenizer.toString(), "--file", file.toString(), "--no-bos");
        assertEquals(json(expected.encode(text)) + "\n", fromFile.out());
        assertTrue(fromFile.out().startsWith("[151644,"), "the special token is recognised: " + fromFile.out());
    }

    @Test
    void mistakesAreOneSentence() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        CommandLineRun none = CommandLineRun.of("tokenize", "--model", empty.toString(), "--text", "x");
        assertEquals(1, none.exitCode());
        assertTrue(none.err().strip().endsWith("has no tokenizer.json (nor vocab.json and merges.txt), and no config.json naming a tokenizer jlens ships."),
                none.err());
        Path latin1 = dir.resolve("latin1.txt");
        Files.write(latin1, new byte[] {'c', 'a', 'f', (byte) 0xe9});
        CommandLineRun notUtf8 = CommandLineRun.of("tokenize", "--model", "gpt2-organism", "--file", latin1.toString());
        assertEquals("jlens: --file " + latin1 + ": is not UTF-8 text.", notUtf8.err().strip());
        Path wordPiece = Files.createDirectories(dir.resolve("bert"));
        Files.writeString(wordPiece.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}");
        CommandLineRun unsupported = CommandLineRun.of("tokenize", "--model", wordPiece.toString(), "--text", "a");
        assertTrue(unsupported.err().strip().endsWith("the tokenizer model is 'WordPiece', but jlens reads BPE only."), unsupported.err());
    }

    private static String json(int[] ids) {
        return Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(",", "[", "]"));
    }
}
