package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Tensor;
import dev.jlens.models.Config;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.components.Activation;
import dev.jlens.models.loading.ModelExport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A table of hostile and careless inputs, one or more per class of issue 32 (users' files, silent
 * wrong results, crashes, messages): each is refused with one sentence on stderr, starting
 * "jlens: ", naming no Java class, with exit code 1, and leaves every file as it was.
 */
class BadInputTest {
    @TempDir
    Path dir;

    /** A micro GPT-2 model directory (vocabulary 37: use --tokens). */
    private Path model(String name) {
        Config cfg = Config.builder().family(ModelFamily.GPT2).nLayers(2).dModel(16).nHeads(2).dMlp(32).dVocab(37).nCtx(24)
                .actFn(Activation.GELU_NEW).bosToken(36).build();
        Path out = dir.resolve(name);
        ModelExport.write(out, cfg, RandomWeights.of(cfg, 1, 0.2));
        return out;
    }

    /** Every file under {@code dir} with its bytes, to compare before and after. */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.toList()) {
                String key = root.relativize(p).toString();
                files.put(key, Files.isRegularFile(p) ? Arrays.toString(Files.readAllBytes(p)) : Files.isDirectory(p) ? "dir" : "other");
            }
        }
        return files;
    }

    private void refused(String expected, String... args) throws IOException {
        Map<String, String> before = snapshot(dir);
        CommandLineRun run = CommandLineRun.of(args);
        String err = run.err().strip();
        String what = String.join(" ", args) + " -> " + err;
        assertEquals(1, run.exitCode(), what);
        assertEquals(1, err.lines().count(), what);
        assertTrue(err.startsWith("jlens: ") && err.contains(expected), what);
        assertFalse(err.matches(".*(Exception|java\\.|\\.java|Error:|at dev\\.).*"), what);
        assertEquals(before, snapshot(dir), "nothing written or deleted: " + what);
    }

    @Test
    void usersFilesAreNeverDeletedOrOverwritten() throws Exception {
        Path project = Files.createDirectories(dir.resolve("project"));
        Files.createDirectories(project.resolve(".git"));
        Files.writeString(project.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        Files.writeString(project.resolve("notebook.ipynb"), "{}");
        Files.writeString(project.resolve("report.json"), "{\"tables\": [], \"figures\": []}");
        refused("holds more than a jlens report", "experiment", "solu-outliers", "--out", project.toString());

        Path model = model("m");
        Path weights = model.resolve("model.safetensors");
        refused("already exists; pass --overwrite", "cache", "--model", model.toString(), "--tokens", "1,2,3", "--out", weights.toString());
        refused("already exists; pass --overwrite", "grads", "--model", model.toString(), "--tokens", "1,2,3", "--out", model.resolve("config.json").toString());
        refused("is a directory", "cache", "--model", model.toString(), "--tokens", "1,2,3", "--out", project.toString());
        refused("already holds config.json; pass --overwrite", "init", "--arch", "gpt2", "--preset", "tiny", "--out", model.toString());
        Files.writeString(project.resolve("README.md"), "mine");
        refused("already holds README.md", "train", "--recipe", "solu-organism", "--steps", "1", "--out", project.toString());
        Path fifo = dir.resolve("pipe");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
        refused("is not a regular file", "cache", "--model", model.toString(), "--tokens", "1,2", "--out", fifo.toString());

        // --overwrite replaces the named file, and only it.
        Path earlier = dir.resolve("cache.safetensors");
        Files.writeString(earlier, "an earlier run");
        CommandLineRun replaced = CommandLineRun.of("cache", "--model", model.toString(), "--tokens", "1,2,3", "--out", earlier.toString(), "--overwrite");
        assertEquals(0, replaced.exitCode(), replaced.err());
        assertTrue(Files.size(earlier) > 100);
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains(".partial")), "no temporary is left");
        }
    }

    @Test
    void inputsThatWouldGiveWrongResultsInSilenceAreRefused() throws Exception {
        Path fewer = model("fewer-layers");
        rewrite(fewer.resolve("config.json"), "\"n_layer\" : 2", "\"n_layer\" : 1");
        refused("does not use; config.json and the weights disagree", "predict", "--model", fewer.toString(), "--prompt", "x");

        Path fractional = model("fractional");
        rewrite(fractional.resolve("config.json"), "\"n_layer\" : 2", "\"n_layer\" : 2.5");
        refused("'n_layer' is '2.5', not a whole number", "predict", "--model", fractional.toString(), "--prompt", "x");

        Path negativeEps = model("negative-eps");
        rewrite(negativeEps.resolve("config.json"), "\"layer_norm_epsilon\" : 1.0E-5", "\"layer_norm_epsilon\" : -1.0");
        refused("eps must be a positive number", "predict", "--model", negativeEps.toString(), "--prompt", "x");

        Path huge = model("huge");
        rewrite(huge.resolve("config.json"), "\"n_embd\" : 16", "\"n_embd\" : 100000000");
        refused("larger than jlens can hold in one tensor", "predict", "--model", huge.toString(), "--prompt", "x");

        Path duplicate = model("duplicate");
        // The header names wte.weight twice (its wpe.weight renamed, same length): one of the two would be read in silence.
        byte[] bytes = Files.readAllBytes(duplicate.resolve("model.safetensors"));
        int at = new String(bytes, StandardCharsets.ISO_8859_1).indexOf("\"wpe.weight\"");
        assertTrue(at > 0);
        System.arraycopy("\"wte.weight\"".getBytes(StandardCharsets.ISO_8859_1), 0, bytes, at, 12);
        Files.write(duplicate.resolve("model.safetensors"), bytes);
        refused("the key 'wte.weight' appears twice", "predict", "--model", duplicate.toString(), "--prompt", "x");

        Path nan = dir.resolve("nan");
        Config cfg = Config.builder().family(ModelFamily.GPT2).nLayers(1).dModel(16).nHeads(2).dMlp(32).dVocab(37).nCtx(24)
                .actFn(Activation.GELU_NEW).bosToken(36).build();
        Map<String, Tensor> state = RandomWeights.of(cfg, 2, 0.2);
        state.get("blocks.0.mlp.W_in").data()[5] = Float.NaN;
        ModelExport.write(nan, cfg, state);
        refused("tensor blocks.0.mlp.W_in holds NaN", "predict", "--model", nan.toString(), "--prompt", "x");

        refused("--model is empty; name a model directory", "predict", "--model", "", "--prompt", "x");
        refused("--neuron must be below 512 (the model's neurons per layer), not 999999999", "experiment", "an-neuron", "--neuron", "999999999",
                "--out", dir.resolve("an").toString());
        refused("more than jlens can hold in one tensor", "bench", "step", "--batch", "100000000", "--seq", "8");
        refused("--warmup must be from 0 to 10000, not -1", "bench", "step", "--warmup", "-1");
        refused("--layer must be below 4 (the model's layers), not 99", "experiment", "an-neuron", "--layer", "99", "--out", dir.resolve("an").toString());

        Path oneToken = model("one-token");
        refused("needs at least two tokens", "grads", "--model", oneToken.toString(), "--tokens", "5", "--out", dir.resolve("g.safetensors").toString());
    }

    @Test
    void weightTypesJlensCannotHoldAreNamedWithTheirTensor() throws Exception {
        Path model = model("typed");
        refused("--dtype 'nonsense' is not a type jlens holds weights in; it takes float32, bfloat16, float16",
                "predict", "--model", model.toString(), "--prompt", "x", "--dtype", "nonsense");

        // An 8-bit float tensor over the same bytes (four times the rows), as an FP8 checkpoint stores it.
        Path fp8 = model("fp8");
        retype(fp8.resolve("model.safetensors"), "wte.weight", "F8_E4M3", "[148,16]");
        refused("tensor 'wte.weight' has dtype F8_E4M3, which jlens does not read as weights", "predict", "--model", fp8.toString(), "--prompt", "x");

        Path quantised = model("int8");
        retype(quantised.resolve("model.safetensors"), "h.0.mlp.c_fc.weight", "I8", "[64,32]");
        refused("tensor 'h.0.mlp.c_fc.weight' has dtype I8", "predict", "--model", quantised.toString(), "--prompt", "x", "--dtype", "bfloat16");
    }

    /** Rewrites one tensor's dtype and shape in a safetensors header, leaving its bytes where they are. */
    private static void retype(Path file, String tensor, String dtype, String shape) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        int headerLength = (int) in.getLong();
        String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8);
        java.util.regex.Matcher entry = java.util.regex.Pattern.compile("\"" + java.util.regex.Pattern.quote(tensor) + "\"\\s*:\\s*\\{[^}]*}").matcher(header);
        assertTrue(entry.find(), tensor + " in " + header);
        String retyped = entry.group().replaceAll("\"dtype\"\\s*:\\s*\"[A-Z0-9_]+\"", "\"dtype\":\"" + dtype + "\"")
                .replaceAll("\"shape\"\\s*:\\s*\\[[^]]*]", "\"shape\":" + shape);
        byte[] newHeader = (header.substring(0, entry.start()) + retyped + header.substring(entry.end())).getBytes(StandardCharsets.UTF_8);
        java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(8 + newHeader.length + bytes.length - 8 - headerLength).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        out.putLong(newHeader.length).put(newHeader).put(bytes, 8 + headerLength, bytes.length - 8 - headerLength);
        Files.write(file, out.array());
    }

    @Test
    void tokenizerFilesAreCheckedAndNeverSilentlyReplaced() throws Exception {
        Path vocabOnly = model("vocab-only");
        Files.writeString(vocabOnly.resolve("vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2}");
        refused("has vocab.json but no merges.txt", "predict", "--model", vocabOnly.toString(), "--prompt", "ab");

        Path threeFields = model("three-fields");
        Files.writeString(threeFields.resolve("vocab.json"), "{\"a\": 0, \"b\": 1, \"ab\": 2}");
        Files.writeString(threeFields.resolve("merges.txt"), "#version: 0.2\na b c\n");
        refused("malformed merge 'a b c'", "predict", "--model", threeFields.toString(), "--prompt", "ab");

        Path outOfRange = model("out-of-range");
        Files.writeString(outOfRange.resolve("tokenizer.json"), tokenizerJson("{\"a\": 0, \"b\": 1000000000}", "[]"));
        refused("has id 1000000000, outside 0..", "predict", "--model", outOfRange.toString(), "--prompt", "ab");

        Path emptyAdded = model("empty-added");
        Files.writeString(emptyAdded.resolve("tokenizer.json"), tokenizerJson("{\"a\": 0, \"b\": 1}",
                "[{\"id\": 2, \"content\": \"\", \"special\": true}]"));
        refused("an added token (id 2) is empty", "predict", "--model", emptyAdded.toString(), "--prompt", "ab");

        Path unreadable = model("unreadable");
        Files.createDirectories(unreadable.resolve("tokenizer.json"));
        refused("tokenizer", "predict", "--model", unreadable.toString(), "--prompt", "ab");
    }

    private static String tokenizerJson(String vocab, String added) {
        return "{\"added_tokens\": " + added + ", \"normalizer\": null, \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},"
                + " \"model\": {\"type\": \"BPE\", \"vocab\": " + vocab + ", \"merges\": []}}";
    }

    private static void rewrite(Path file, String from, String to) throws IOException {
        String text = Files.readString(file);
        assertTrue(text.contains(from), file + " holds " + from + ": " + text);
        Files.writeString(file, text.replace(from, to));
    }

    @Test
    void twoExperimentsReadingOneModelAtOnceBothSucceed() throws Exception {
        List<Thread> threads = new ArrayList<>();
        List<Integer> codes = java.util.Collections.synchronizedList(new ArrayList<>());
        for (String name : List.of("first", "second")) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    codes.add(JlensProcess.run(dir, List.of(), Map.of(), "experiment", "solu-outliers", "--out", dir.resolve(name).toString()).exitCode());
                } catch (Exception e) {
                    codes.add(-1);
                }
            }));
        }
        for (Thread t : threads) t.join();
        assertEquals(List.of(0, 0), codes);
        for (String name : List.of("first", "second")) assertTrue(Files.isRegularFile(dir.resolve(name).resolve("index.html")), name);
        assertEquals(Files.readString(dir.resolve("first/top_scores.csv")), Files.readString(dir.resolve("second/top_scores.csv")));
    }

    @Test
    void twoRunsWritingOneFileEndWithOneWholeResult() throws Exception {
        Path model = model("shared");
        Path out = dir.resolve("both.safetensors");
        List<Thread> threads = new ArrayList<>();
        List<Integer> codes = java.util.Collections.synchronizedList(new ArrayList<>());
        for (String tokens : List.of("1,2,3,4,5,6", "7,8,9")) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    codes.add(JlensProcess.run(dir, List.of(), Map.of(), "cache", "--model", model.toString(), "--tokens", tokens,
                            "--out", out.toString()).exitCode());
                } catch (Exception e) {
                    codes.add(-1);
                }
            }));
        }
        for (Thread t : threads) t.join();
        assertEquals(1, codes.stream().filter(c -> c == 0).count(), "one run wrote the file, the other found it taken: " + codes);
        try (var file = dev.jlens.engine.safetensors.SafetensorsFile.open(out)) {
            int pos = file.read("logits", null).dim(1);
            assertTrue(pos == 6 || pos == 3, "the file is one run's whole result");
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertTrue(left.noneMatch(p -> p.getFileName().toString().contains(".partial")), "no temporary is left");
        }
    }
}
