package dev.jlens.engine.checkpoint;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.jlens.fuzz.Refusals;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * PyTorch checkpoints: the unpickler on a raw pickle, and the whole zip (entries, data.pkl,
 * storages). In this package to reach the unpickler, which is not public.
 */
class TorchCheckpointFuzzTest {
    private static final Path FILE = Refusals.scratch("pth").resolve("model.pth");

    @FuzzTest
    void pickle(byte[] bytes) {
        Refusals.readOrRefuse(() -> Unpickler.load(bytes, "data.pkl"));
    }

    @FuzzTest
    void zip(byte[] bytes) {
        Refusals.readOrRefuse(() -> {
            Files.write(FILE, bytes);
            try (TorchCheckpoint checkpoint = TorchCheckpoint.open(FILE)) {
                for (String name : checkpoint.names()) checkpoint.read(name, null);
            }
        });
    }
}
