package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.generation.Generator;
import dev.jlens.models.generation.Sampling;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens generate} on a random GPT-2 of the tiny shape (real tokenizer, n_ctx 1024), against the library's generation. */
class GenerateCommandTest {
    @TempDir
    static Path dir;
    static Path gpt2;
    static LoadedModel loaded;

    @BeforeAll
    static void initModel() {
        gpt2 = dir.resolve("gpt2-tiny");
        assertEquals(0, CommandLineRun.of("init", "--arch", "gpt2", "--preset", "tiny", "--seed", "5", "--out", gpt2.toString()).exitCode());
        loaded = LoadedModel.load(gpt2);
    }

    private static int[] greedy(String prompt, int n) {
        int[] ids = loaded.tokenizer().toTokens(prompt, true);
        return Generator.generate(loaded.model(), new int[][] {ids}, new Generator.Options(n, Sampling.greedy(), -1, true), Generator.Listener.NONE)[0];
    }

    private static int[] parseIds(String json) {
        String body = json.strip();
        assertTrue(body.startsWith("[") && body.endsWith("]"), body);
        return body.length() == 2 ? new int[0] : Arrays.stream(body.substring(1, body.length() - 1).split(",")).mapToInt(Integer::parseInt).toArray();
    }

    @Test
    void idsAreOneJsonArrayOfTheGreedyContinuation() {
        CommandLineRun run = CommandLineRun.of("generate", "--model", gpt2.toString(), "--prompt", "The cat sat", "--max-new-tokens", "12",
                "--temperature", "0", "--no-stop-at-eos", "--ids");
        assertEquals(0, run.exitCode(), run.err());
        assertEquals(1, run.out().lines().count(), "nothing but the array: " + run.out());
        assertArrayEquals(greedy("The cat sat", 12), parseIds(run.out()));
    }

    @Test
    void textIsThePromptAndItsContinuationDecodedAsOne() {
        CommandLineRun run = CommandLineRun.of("generate", "--model", gpt2.toString(), "--prompt", "Le café était", "--max-new-tokens", "15",
                "--temperature", "0", "--no-stop-at-eos");
        assertEquals(0, run.exitCode(), run.err());
        int[] prompt = loaded.tokenizer().toTokens("Le café était", false), all = Arrays.copyOf(prompt, prompt.length + 15);
        System.arraycopy(greedy("Le café était", 15), 0, all, prompt.length, 15);
        assertEquals(loaded.tokenizer().decode(all) + "\n", run.out());
    }

    @Test
    void theSameSeedGivesTheSameTextAndAStopStringEndsIt() {
        String[] args = {"generate", "--model", gpt2.toString(), "--tokens", "464,3797,3332", "--max-new-tokens", "20", "--seed", "11",
            "--top-k", "50", "--top-p", "0.95", "--temperature", "1.2", "--no-stop-at-eos", "--ids"};
        CommandLineRun first = CommandLineRun.of(args), again = CommandLineRun.of(args);
        assertEquals(0, first.exitCode(), first.err());
        assertEquals(first.out(), again.out());
        args[7] = "12";
        assertNotEquals(first.out(), CommandLineRun.of(args).out(), "another seed, another draw");

        int[] continuation = greedy("The cat sat", 12);
        String text = loaded.tokenizer().decode(Arrays.copyOf(continuation, 6));
        String stop = text.substring(text.length() - 3);
        CommandLineRun stopped = CommandLineRun.of("generate", "--model", gpt2.toString(), "--prompt", "The cat sat", "--max-new-tokens", "12",
                "--temperature", "0", "--no-stop-at-eos", "--stop", stop);
        assertEquals(0, stopped.exitCode(), stopped.err());
        String out = stopped.out().substring(0, stopped.out().length() - 1);
        assertTrue(out.endsWith(stop) || out.contains(stop), out);
        assertTrue(out.length() <= ("The cat sat" + loaded.tokenizer().decode(Arrays.copyOf(continuation, 6))).length(), "stopped by the 6th token: " + out);
    }

    @Test
    void badRequestsAreOneSentenceWithNothingGenerated() {
        String model = gpt2.toString();
        assertRefused("the prompt's 3 tokens and 1022 new tokens exceed the model's context (n_ctx) of 1024 tokens; ask for at most 1021 new tokens.",
                "generate", "--model", model, "--prompt", "Hi there", "--max-new-tokens", "1022");
        assertRefused("--temperature must be 0 (greedy) or more, not -0.5.", "generate", "--model", model, "--prompt", "x", "--temperature", "-0.5");
        assertRefused("--top-p must be in (0, 1], not 0.0.", "generate", "--model", model, "--prompt", "x", "--top-p", "0");
        assertRefused("--top-p must be in (0, 1], not 1.5.", "generate", "--model", model, "--prompt", "x", "--top-p", "1.5");
        assertRefused("--top-k must be at least 1, not 0.", "generate", "--model", model, "--prompt", "x", "--top-k", "0");
        assertRefused("--prompt is empty and --no-prepend-bos leaves no token to run.", "generate", "--model", model, "--prompt", "", "--no-prepend-bos");
        assertRefused("--max-new-tokens must be 0 or more, not -1.", "generate", "--model", model, "--prompt", "x", "--max-new-tokens", "-1");
    }

    private static void assertRefused(String sentence, String... args) {
        CommandLineRun run = CommandLineRun.of(args);
        assertEquals(1, run.exitCode(), run.out() + run.err());
        assertEquals("jlens: " + sentence + "\n", run.err());
        assertEquals("", run.out(), "nothing generated");
    }
}
