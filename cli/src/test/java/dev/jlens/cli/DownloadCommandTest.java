package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.hub.FakeHub;
import dev.jlens.models.hub.ShippedModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `jlens download` and `--model org/name` in a separate process, with HF_ENDPOINT pointed at a hub on loopback. */
class DownloadCommandTest {
    @TempDir
    Path dir;

    private JlensProcess jlens(Map<String, String> env, String... args) throws Exception {
        return JlensProcess.run(dir, List.of(), env, args);
    }

    @Test
    void downloadThenUseByNameOfflineAndAMissingModelSaysHowToGetIt() throws Exception {
        Path organism = ShippedModels.resolve(ShippedModels.GPT2);
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) files.put(f, Files.readAllBytes(organism.resolve(f)));
        Path cache = dir.resolve("hf");
        try (FakeHub hub = new FakeHub()) {
            hub.put("someone/organism", files);
            JlensProcess download = jlens(Map.of("HF_ENDPOINT", hub.endpoint(), "HF_HUB_CACHE", cache.toString()), "download", "someone/organism");
            assertEquals(0, download.exitCode(), download.err());
            assertEquals(cache.resolve("models--someone--organism/snapshots/" + FakeHub.COMMIT).toString(), download.out().trim());
        }
        JlensProcess offline = jlens(Map.of("HF_HUB_CACHE", cache.toString(), "HF_HUB_OFFLINE", "1"), "predict", "--model", "someone/organism",
                "--prompt", "The capital of France is", "--top-k", "1");
        assertEquals(0, offline.exitCode(), offline.err());
        assertTrue(offline.out().contains("Top 0th token.") && offline.out().contains("| Paris|"), offline.out());
        JlensProcess missing = jlens(Map.of("HF_HUB_CACHE", cache.toString(), "HF_HUB_OFFLINE", "1"), "predict", "--model", "gpt2-small", "--prompt", "x");
        assertEquals(1, missing.exitCode());
        assertEquals("jlens: gpt2-small (gpt2) is not in the Hugging Face cache at " + cache + ", and HF_HUB_OFFLINE is set; fetch it once with "
                + "the network on: jlens download gpt2-small.", missing.err());
    }
}
