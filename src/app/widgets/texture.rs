//! Uploading images to the GPU once, not every frame: a texture is re-sent only when what it shows changes, and
//! an existing handle is refilled instead of allocating a new one. Shared by the canvas and the inspector.

use egui::{ColorImage, TextureHandle, TextureOptions};

/// One texture, re-uploaded only when its key (a test-image index, an input generation…) changes.
pub(crate) struct KeyedTexture<K> {
    slot: Option<(TextureHandle, K)>,
}

impl<K> Default for KeyedTexture<K> {
    fn default() -> Self {
        KeyedTexture { slot: None }
    }
}

impl<K: PartialEq> KeyedTexture<K> {
    /// The texture for `key`; `image` is called only when the key differs from the last upload's.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        key: K,
        options: TextureOptions,
        image: impl FnOnce() -> ColorImage,
    ) -> &TextureHandle {
        match &mut self.slot {
            Some((tex, shown)) => {
                if *shown != key {
                    tex.set(image(), options);
                    *shown = key;
                }
                tex
            }
            slot @ None => &slot.insert((ctx.load_texture(name, image(), options), key)).0,
        }
    }
}

/// Re-uses existing texture handles (same count and size) or allocates new ones named `name-i`.
pub(crate) fn upload(
    ctx: &egui::Context,
    name: &str,
    mut existing: Vec<TextureHandle>,
    images: Vec<ColorImage>,
    options: TextureOptions,
) -> Vec<TextureHandle> {
    existing.truncate(images.len());
    let mut out = Vec::with_capacity(images.len());
    let mut existing = existing.into_iter();
    for (i, img) in images.into_iter().enumerate() {
        match existing.next() {
            Some(mut tex) if tex.size() == img.size => {
                tex.set(img, options);
                out.push(tex);
            }
            _ => out.push(ctx.load_texture(format!("{name}-{i}"), img, options)),
        }
    }
    out
}
