package dev.jlens.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jlens.models.loading.ConfigFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** config.json as Hugging Face (gpt2, gpt_neox) and TransformerLens write it. */
class ConfigFuzzTest {
    private static final Path FILE = Refusals.scratch("config").resolve("config.json");

    @FuzzTest
    void config(byte[] bytes) {
        Refusals.readOrRefuse(() -> {
            Files.write(FILE, bytes);
            ConfigFile.read(FILE);
        });
    }
}
