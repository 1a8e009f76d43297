package dev.jlens.engine.safetensors;

import java.util.Optional;

/** The element types the safetensors format names; the floating-point ones read as float32. */
public enum Dtype {
    F64(8, true), F32(4, true), F16(2, true), BF16(2, true),
    I64(8, false), I32(4, false), I16(2, false), I8(1, false),
    U64(8, false), U32(4, false), U16(2, false), U8(1, false), BOOL(1, false),
    F8_E4M3(1, false), F8_E5M2(1, false);

    private final int bytes;
    private final boolean readableAsFloat;

    Dtype(int bytes, boolean readableAsFloat) {
        this.bytes = bytes;
        this.readableAsFloat = readableAsFloat;
    }

    public int bytes() {
        return bytes;
    }

    /** Whether jlens reads this type into float32 (widening F16/BF16, narrowing F64). */
    public boolean readableAsFloat() {
        return readableAsFloat;
    }

    /** How jlens holds a tensor of this type as it is stored: 16-bit floats stay 16-bit, the rest become float32. */
    public dev.jlens.engine.DataType heldAs() {
        return switch (this) {
            case BF16 -> dev.jlens.engine.DataType.BFLOAT16;
            case F16 -> dev.jlens.engine.DataType.FLOAT16;
            default -> dev.jlens.engine.DataType.FLOAT32;
        };
    }

    public static Optional<Dtype> parse(String name) {
        for (Dtype d : values()) if (d.name().equals(name)) return Optional.of(d);
        return Optional.empty();
    }
}
