package dev.jlens.engine.checkpoint;

import dev.jlens.engine.Tensor;
import java.nio.file.Path;
import java.util.List;

/** A file of named weights, whatever its format: safetensors or a PyTorch checkpoint. */
public interface Checkpoint extends AutoCloseable {
    Path path();

    /** Names of the tensors, in file order. */
    List<String> names();

    boolean contains(String name);

    /** A floating-point tensor as float32, into {@code reuse} when it has exactly the tensor's size. */
    Tensor read(String name, float[] reuse);

    default Tensor read(String name) {
        return read(name, null);
    }

    @Override
    void close();
}
