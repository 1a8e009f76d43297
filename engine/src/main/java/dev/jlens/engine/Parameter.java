package dev.jlens.engine;

/**
 * A named weight and its gradient, of the same shape. The gradient is allocated the first time it
 * is asked for, so a model that only runs forward carries no gradient memory. Backward passes
 * accumulate into {@link #grad()}; {@link #zeroGrad()} is the separate, flat step that clears it.
 */
public final class Parameter {
    private final String name;
    private final Tensor value;
    private Tensor grad;

    private Parameter(String name, Tensor value) {
        this.name = name;
        this.value = value;
    }

    public static Parameter of(String name, Tensor value) {
        return new Parameter(name, value);
    }

    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    /** The gradient, zeros until a backward accumulates into it. */
    public Tensor grad() {
        if (grad == null) grad = Tensor.zeros(value.shape());
        return grad;
    }

    public void zeroGrad() {
        if (grad != null) java.util.Arrays.fill(grad.data(), 0f);
    }

    @Override
    public String toString() {
        return "Parameter(" + name + ", " + value.shapeString() + ")";
    }
}
