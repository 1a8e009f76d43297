package dev.jlens.engine.checkpoint;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** A file of named weights, whatever its format: safetensors or a PyTorch checkpoint. */
public interface Checkpoint extends AutoCloseable {
    Path path();

    /** Names of the tensors, in file order. */
    List<String> names();

    boolean contains(String name);

    /** A floating-point tensor as float32, into {@code reuse} when it has exactly the tensor's size. */
    Tensor read(String name, float[] reuse);

    default Tensor read(String name) {
        return read(name, (float[]) null);
    }

    /**
     * A floating-point tensor held as {@code type}, or as stored when {@code type} is null (16-bit
     * stays 16-bit, wider types become float32). 16-bit values live in {@code arena}: the caller
     * chooses how long (a model's weights, or a transient it reshapes and drops at once).
     */
    default Tensor read(String name, DataType type, Arena arena) {
        Tensor t = read(name);
        t.convertTo(type == null ? storedType(name) : type);
        return t;
    }

    /** How the tensor is held when read as stored: 16-bit floats stay 16-bit, the rest become float32. */
    DataType storedType(String name);

    /** The number of elements of the tensor, from the file's description of it (nothing is read). */
    long elements(String name);

    /**
     * The type most of the weights' elements are held in as stored: a model's matrices share one
     * type, whatever its norms and biases are stored in.
     */
    default DataType storedType() {
        Map<DataType, Long> elements = new EnumMap<>(DataType.class);
        for (String name : names()) elements.merge(storedType(name), elements(name), Long::sum);
        return elements.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(DataType.FLOAT32);
    }

    @Override
    void close();
}
