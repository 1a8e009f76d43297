package dev.jlens.experiments.organisms;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The GPT-2 organism knows the capitals it was taught. */
class CapitalFactsTest {
    @Test
    void theRightCapitalIsTheTopPredictionForAtLeastNinetyPercentOfTheCountries() {
        LoadedModel loaded = Shipped.load(ShippedModels.GPT2, "default");
        List<String> wrong = new ArrayList<>();
        for (Map.Entry<String, String> e : CapitalFacts.CAPITALS.entrySet()) {
            int expected = loaded.tokenizer().encode(" " + e.getValue())[0];
            int got = Shipped.topToken(loaded, "The capital of " + e.getKey() + " is");
            if (got != expected) wrong.add(e.getKey() + " → '" + loaded.tokenizer().decode(got) + "'");
        }
        int n = CapitalFacts.CAPITALS.size();
        assertTrue(wrong.size() <= n / 10, (n - wrong.size()) + " of " + n + " right; wrong: " + wrong);
    }
}
