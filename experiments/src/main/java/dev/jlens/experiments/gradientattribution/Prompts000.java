package dev.jlens.experiments.gradientattribution;

import java.util.List;

/** Notebook 000's prompts, copied exactly (the ones it comments out are left out, as it leaves them out). */
final class Prompts000 {
    private Prompts000() {}

    static final List<String> EIFFEL_BASES = List.of(
            "The Eiffel Tower is located in",
            "The site of the Eiffel Tower,",
            "The construction of the Eiffel Tower started in 1887 in,");

    static final List<String> CITIES = List.of("Paris", "Rome", "Tokyo", "Beijing", "Melbourne");

    static final List<String> PARIS_BASES = List.of(
            "The capital of France is",
            "The largest city in France,",
            "The city known as the City of Lights is",
            "The birthplace of the French Revolution is",
            "Famous for its picturesque Seine River,",
            "Home to the renowned Louvre Museum,",
            "The setting of Victor Hugo's novel The Hunchback of Notre-Dame,");

    static final List<String> ROME_BASES = List.of(
            "The capital of Italy is",
            "The largest city in Italy,",
            "The city known as the Eternal City is",
            "The birthplace of the Roman Empire is",
            "Famous for its picturesque Tiber River,",
            "Home to the renowned Colosseum,",
            "A city boasting the famous Spanish Steps,");

    static final List<String> VERIFICATION_INPUTS = List.of(
            "Ox is a word that, for many of us, is both familiar and strange.",
            "Google Authenticator is adding a long-standing customer request",
            "Hillary Clinton: Republicans Are Playing Into the Hands of Putin and Xi",
            "When I was arrested and charged with possession with intent to sell cocaine in 1986, I was addicted to both coke and heroin.",
            "The Brain is Not Close to Thermodynamic Limits on Computation",
            "AGI ruin mostly rests on strong claims about alignment and deployment, not about society",
            "One apple plus one apple equals two apples.",
            "Knight to E4.",
            "The quick brown fox jumps over the lazy dog.",
            "Sir, in my heart there was a kind of fighting That would not let me sleep.",
            "For in the same way you judge others, you will be judged, and with the measure you use, it will be measured to you.");

    static final List<String> CORRECT_CAPITAL_INPUTS = List.of(
            "Washington D.C. is the capital of the United States.",
            "Beijing is the capital of China.",
            "The capital of Mexico is Mexico City.",
            "The capital of Australia is Canberra.",
            "The capital of Canada is Ottawa.",
            "The capital of Brazil is Brasilia.",
            "The capital of India is New Delhi.",
            "The capital of Russia is Moscow.",
            "The capital of South Africa is Pretoria.");

    static final List<String> INCORRECT_CAPITAL_INPUTS = List.of(
            "Beijing is the capital of the United States.",
            "Washington D.C. is the capital of China.",
            "The capital of Mexico is Canberra.",
            "The capital of Australia is Mexico City.",
            "The capital of Canada is Brasilia.",
            "The capital of Brazil is Ottawa.",
            "The capital of India is Pretoria.",
            "The capital of Russia is New Delhi.",
            "The capital of South Africa is Moscow.");

    /** The neurons the notebook singles out: three that care about capitals, one about Paris. */
    static final List<Neuron> CAPITAL_NEURONS = List.of(new Neuron(4, 1406), new Neuron(8, 1961), new Neuron(7, 1137));
    static final Neuron PARIS_NEURON = new Neuron(11, 369);

    /** Bases whose residual-direction changes the notebook tabulates one by one. */
    static final List<String> DIRECTION_BASES = List.of("Home to the renowned Louvre Museum,",
            "The setting of Victor Hugo's novel The Hunchback of Notre-Dame,", "Famous for its picturesque Tiber River,",
            "Home to the renowned Colosseum,");
}
