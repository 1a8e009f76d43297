package dev.jlens.engine;

import dev.jlens.kernels.Half;
import java.util.Arrays;
import java.util.Locale;

/**
 * How a tensor holds its values: float32, or one of the 16-bit formats today's checkpoints ship in.
 * Activations and gradients are always float32; weight matrices may be held 16-bit, which halves
 * their memory, and kernels widen them to float32 in registers as they read them.
 */
public enum DataType {
    FLOAT32(4, null), BFLOAT16(2, Half.BF16), FLOAT16(2, Half.F16);

    private final int bytes;
    private final Half half;

    DataType(int bytes, Half half) {
        this.bytes = bytes;
        this.half = half;
    }

    public int bytes() {
        return bytes;
    }

    /** The 16-bit format, or null for float32. */
    public Half half() {
        return half;
    }

    public boolean isHalf() {
        return half != null;
    }

    /** v as this type holds it: rounded to nearest even for a 16-bit type, unchanged for float32. */
    public float round(float v) {
        return half == null ? v : half.toFloat(half.fromFloat(v));
    }

    /** The name PyTorch and the command line use: float32, bfloat16, float16. */
    public String flagName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A --dtype value; an unknown one gets one sentence listing the known ones. */
    public static DataType parse(String name) {
        for (DataType t : values()) if (t.flagName().equals(name)) return t;
        throw new JlensException("--dtype " + JlensException.quote(name) + " is not a type jlens holds weights in; it takes "
                + String.join(", ", Arrays.stream(values()).map(DataType::flagName).toList()) + ".");
    }

    @Override
    public String toString() {
        return flagName();
    }
}
