package dev.jlens.models.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextStreamTest {
    /** GPT-2's byte-level tokens split these characters' UTF-8 bytes: each is printed once whole, never as U+FFFD. */
    @Test
    void aCharacterSplitAcrossTokensIsPrintedOnceWhole() {
        Tokenizer gpt2 = Tokenizer.gpt2();
        String text = "naïve 日本語の文章 🙂🚀 café — Ελληνικά";
        int[] ids = gpt2.encode(text);
        List<String> chunks = new ArrayList<>();
        TextStream stream = new TextStream(gpt2, chunks::add);
        int held = 0;
        for (int id : ids) {
            int before = chunks.size();
            stream.accept(id);
            if (chunks.size() == before) held++;
        }
        stream.finish();
        assertEquals(text, String.join("", chunks));
        for (String chunk : chunks) assertFalse(chunk.contains("\uFFFD"), chunk);
        assertTrue(held > 0, "some tokens ended inside a character, and printed nothing");
        assertEquals(text, stream.continuation());
    }

    @Test
    void anUnfinishedCharacterIsPrintedAtTheEndAsTheDecoderSpellsIt() {
        Tokenizer gpt2 = Tokenizer.gpt2();
        int[] ids = gpt2.encode("ok 🚀x"); // "ok", the rocket's four bytes over three tokens, "x"
        List<String> chunks = new ArrayList<>();
        TextStream stream = new TextStream(gpt2, chunks::add);
        stream.acceptAll(new int[] {ids[0]});
        for (int i = 1; i < ids.length - 2; i++) stream.accept(ids[i]);
        assertEquals("ok ", String.join("", chunks), "the rocket's first bytes are held back");
        stream.finish();
        assertEquals(gpt2.decode(java.util.Arrays.copyOf(ids, ids.length - 2)), String.join("", chunks));
        assertTrue(String.join("", chunks).endsWith("\uFFFD"));
    }
}
