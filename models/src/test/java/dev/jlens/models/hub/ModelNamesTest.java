package dev.jlens.models.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelNamesTest {
    @Test
    void transformerLensNamesResolveAsFromPretrainedResolvesThem() {
        assertEquals("gpt2", ModelNames.repository("gpt2-small"));
        assertEquals("gpt2", ModelNames.repository("gpt2"));
        assertEquals("gpt2-large", ModelNames.repository("GPT2-Large"));
        assertEquals("gpt2-xl", ModelNames.repository("gpt2-xl"));
        assertEquals("EleutherAI/pythia-70m", ModelNames.repository("pythia-70m"));
        assertEquals("EleutherAI/pythia-70m", ModelNames.repository("pythia-19m"));
        assertEquals("EleutherAI/pythia-70m-v0", ModelNames.repository("pythia-70m-v0"));
        assertEquals("EleutherAI/pythia-160m-deduped-v0", ModelNames.repository("pythia-125m-deduped-v0"));
        assertEquals("EleutherAI/pythia-12b", ModelNames.repository("pythia-12b"));
        assertEquals("NeelNanda/SoLU_1L512W_C4_Code", ModelNames.repository("solu-1l"));
        assertEquals("NeelNanda/SoLU_1L_v9_old", ModelNames.repository("solu-1l-pile"));
        assertEquals("NeelNanda/GELU_2L512W_C4_Code", ModelNames.repository("gelu-2l"));
        assertEquals("meta-llama/Llama-3.2-1B", ModelNames.repository("meta-llama/llama-3.2-1b"));
        assertEquals("Qwen/Qwen2.5-0.5B", ModelNames.repository("Qwen/Qwen2.5-0.5B"));
        assertEquals("Qwen/Qwen3-0.6B", ModelNames.repository("qwen/qwen3-0.6b"));
        assertEquals("mistralai/Mistral-7B-v0.1", ModelNames.repository("mistral-7b"));
        assertTrue(ModelNames.isKnown("meta-llama/Llama-3.1-8B-Instruct"));
        assertEquals("someone/their-model", ModelNames.repository("someone/their-model"));
        assertTrue(ModelNames.isKnown("Pythia-70M-V0"));
        JlensException e = assertThrows(JlensException.class, () -> ModelNames.repository("gpt3"));
        assertTrue(e.getMessage().startsWith("'gpt3' is neither a model directory"), e.getMessage());
    }

    @Test
    void settingsComeFromTheVariablesHuggingFaceHubReads() {
        Path home = Path.of("/home/u");
        HubSettings defaults = HubSettings.from(Map.of(), home);
        assertEquals(new HubSettings("https://huggingface.co", null, Path.of("/home/u/.cache/huggingface/hub"), false), defaults);
        assertEquals(Path.of("/x/hub"), HubSettings.from(Map.of("HF_HOME", "/x"), home).cache());
        assertEquals(Path.of("/c"), HubSettings.from(Map.of("HF_HOME", "/x", "HF_HUB_CACHE", "/c"), home).cache());
        assertEquals(Path.of("/xdg/huggingface/hub"), HubSettings.from(Map.of("XDG_CACHE_HOME", "/xdg"), home).cache());
        assertEquals("HF_ENDPOINT 'huggingface.co' is not an http(s) address such as https://huggingface.co.",
                assertThrows(JlensException.class, () -> HubSettings.from(Map.of("HF_ENDPOINT", "huggingface.co"), home)).getMessage());
        HubSettings s = HubSettings.from(Map.of("HF_ENDPOINT", "http://127.0.0.1:9/", "HF_TOKEN", "hf_x", "HF_HUB_OFFLINE", "1"), home);
        assertEquals("http://127.0.0.1:9", s.endpoint());
        assertEquals("hf_x", s.token());
        assertTrue(s.offline());
    }
}
