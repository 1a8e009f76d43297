package dev.jlens.models;

/**
 * Where a model's checkpoint comes from, which decides how its config and weights are read and
 * written: the Hugging Face layouts jlens translates, or TransformerLens's own names. Nothing that
 * computes looks at it; the computation follows the {@link Config}'s parts.
 */
public enum ModelFamily {
    /** Hugging Face's GPT2LMHeadModel ({@code model_type} gpt2). */
    GPT2("gpt2"),
    /** Hugging Face's GPTNeoXForCausalLM ({@code model_type} gpt_neox): Pythia. */
    GPT_NEOX("gpt_neox"),
    /** A TransformerLens config and state dict (Neel Nanda's SoLU and GELU models, jlens's SoLU organism). */
    HOOKED_TRANSFORMER("hooked_transformer");

    private final String modelType;

    ModelFamily(String modelType) {
        this.modelType = modelType;
    }

    /** The name in a config.json: Hugging Face's {@code model_type}, or hooked_transformer. */
    public String modelType() {
        return modelType;
    }
}
