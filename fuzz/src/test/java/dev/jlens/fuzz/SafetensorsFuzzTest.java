package dev.jlens.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jlens.engine.safetensors.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** The safetensors header (JSON: dtypes, shapes, data offsets) and the tensors it points at. */
class SafetensorsFuzzTest {
    private static final Path FILE = Refusals.scratch("safetensors").resolve("model.safetensors");

    @FuzzTest
    void header(byte[] bytes) {
        Refusals.readOrRefuse(() -> {
            Files.write(FILE, bytes);
            try (SafetensorsFile file = SafetensorsFile.open(FILE)) {
                file.metadata();
                for (String name : file.names()) {
                    file.info(name);
                    if (file.contains(name)) file.read(name, null);
                }
            }
        });
    }
}
