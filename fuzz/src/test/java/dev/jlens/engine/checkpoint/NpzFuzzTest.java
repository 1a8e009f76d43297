package dev.jlens.engine.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jlens.fuzz.Refusals;
import java.nio.file.Files;
import java.nio.file.Path;

/** numpy's npz files (Gemma Scope's params.npz): the zip, each .npy header and its values. Seeds: files numpy wrote. */
class NpzFuzzTest {
    private static final Path FILE = Refusals.scratch("npz").resolve("params.npz");

    @FuzzTest
    void npz(byte[] bytes) {
        Refusals.readOrRefuse(() -> {
            Files.write(FILE, bytes);
            Npz.read(FILE);
        });
    }
}
