package dev.jlens.models.components;

import dev.jlens.engine.JlensException;

/** The MLP's nonlinearity, by its Hugging Face / TransformerLens name. */
public enum Activation {
    /** GPT-2's tanh approximation, {@code gelu_new}. */
    GELU_NEW("gelu_new"),
    /** The exact erf GELU, {@code gelu} (GPT-NeoX). */
    GELU("gelu"),
    /** TransformerLens's {@code solu_ln}: x·softmax(x), then a layer norm inside the MLP. */
    SOLU_LN("solu_ln"),
    /** x·σ(x), {@code silu} (the gate of Llama-family MLPs). */
    SILU("silu");

    private final String hfName;

    Activation(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    public static Activation fromName(String name) {
        return switch (name) {
            case "gelu_new", "gelu_pytorch_tanh", "gelu_fast" -> GELU_NEW;
            case "gelu" -> GELU;
            case "solu_ln" -> SOLU_LN;
            case "silu", "swish" -> SILU;
            default -> throw new JlensException("activation function " + JlensException.quote(name)
                    + " is not supported (jlens knows gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, solu_ln, silu).");
        };
    }
}
