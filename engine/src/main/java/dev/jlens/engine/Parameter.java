package dev.jlens.engine;

/**
 * A named weight and its gradient, of the same shape. Backward passes accumulate into
 * {@link #grad()}; {@link #zeroGrad()} is the separate, flat step that clears it.
 */
public record Parameter(String name, Tensor value, Tensor grad) {
    public Parameter {
        if (!grad.hasShape(value.shape())) {
            throw new IllegalArgumentException("gradient of " + name + " has shape " + grad.shapeString()
                    + " but the parameter has " + value.shapeString());
        }
    }

    public static Parameter of(String name, Tensor value) {
        return new Parameter(name, value, Tensor.zeros(value.shape()));
    }

    public void zeroGrad() {
        java.util.Arrays.fill(grad.data(), 0f);
    }
}
