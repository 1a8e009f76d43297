import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.model.functions.Generator;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.prompt.PromptContext;
import java.io.File;
import java.util.UUID;

/**
 * Greedy generation with Jlama, timed by Jlama itself (prefill and decode apart), for
 * bench/vs-jlama.sh: args MODEL_DIR PROMPT_WORDS NEW_TOKENS REPEATS. The prompt is PROMPT_WORDS
 * words; Jlama reports how many tokens they are, and jlens is given as many.
 */
public final class JlamaGenerate {
    public static void main(String[] args) {
        File dir = new File(args[0]);
        int words = Integer.parseInt(args[1]), newTokens = Integer.parseInt(args[2]), repeats = Integer.parseInt(args[3]);
        String prompt = "the quick brown fox jumps over the lazy dog ".repeat(words / 9 + 1).trim();
        prompt = String.join(" ", java.util.Arrays.copyOf(prompt.split(" "), words));
        AbstractModel model = ModelSupport.loadModel(dir, DType.F32, DType.F32);
        // Jlama's limit counts the prompt's tokens with the new ones.
        int promptTokens = model.getTokenizer().encode(prompt).length;
        model.generate(UUID.randomUUID(), PromptContext.of(prompt), 0.0f, promptTokens + 4, (token, time) -> {}); // warm-up
        for (int r = 0; r < repeats; r++) {
            Generator.Response response = model.generate(UUID.randomUUID(), PromptContext.of(prompt), 0.0f, promptTokens + newTokens, (token, time) -> {});
            System.out.printf("jlama run %d: prompt %d tokens in %d ms (%.1f tokens/s); %d new tokens in %d ms (%.2f tokens/s)%n", r,
                    response.promptTokens, response.promptTimeMs, response.promptTokens * 1000.0 / response.promptTimeMs,
                    response.generatedTokens, response.generateTimeMs, response.generatedTokens * 1000.0 / response.generateTimeMs);
        }
    }
}
