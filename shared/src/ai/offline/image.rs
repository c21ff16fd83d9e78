//! Placeholder pictures for the offline provider: a PNG whose colours and shapes come from a
//! hash of the prompt (a diagonal gradient between two hues with a few soft discs), so the
//! same prompt always gives the same picture and different prompts look different.

use std::io::Write;

use flate2::{Compression, write::ZlibEncoder};

use crate::ai::images::ImageShape;

/// Half the provider sizes: enough for a layout preview, small on disk.
pub fn placeholder_size(shape: ImageShape) -> (u32, u32) {
    let (width, height) = shape.size();
    (width / 2, height / 2)
}

/// An RGB PNG of `width`×`height` for `prompt`.
pub fn placeholder_png(prompt: &str, width: u32, height: u32) -> Vec<u8> {
    let seed = fnv1a(prompt.as_bytes());
    let from = hue_to_rgb((seed % 360) as f32);
    let to = hue_to_rgb(((seed >> 16) % 360) as f32);
    let discs: Vec<Disc> = (0..5u64)
        .map(|index| {
            let bits = fnv1a(&[prompt.as_bytes(), &index.to_le_bytes()].concat());
            Disc {
                x: (bits % 1000) as f32 / 1000.0 * width as f32,
                y: ((bits >> 10) % 1000) as f32 / 1000.0 * height as f32,
                radius: (0.08 + ((bits >> 20) % 100) as f32 / 500.0) * width.min(height) as f32,
            }
        })
        .collect();

    let row_bytes = 1 + 3 * width as usize;
    let mut raw = Vec::with_capacity(row_bytes * height as usize);
    let span = (width + height).max(1) as f32;
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let t = (x + y) as f32 / span;
            let mut pixel = [0f32; 3];
            for (channel, value) in pixel.iter_mut().enumerate() {
                *value = from[channel] * (1.0 - t) + to[channel] * t;
            }
            let glow: f32 = discs.iter().map(|disc| disc.cover(x as f32, y as f32)).sum::<f32>().min(1.0);
            for value in &mut pixel {
                *value += (255.0 - *value) * 0.35 * glow;
            }
            raw.extend(pixel.map(|value| value.round().clamp(0.0, 255.0) as u8));
        }
    }
    encode_png(width, height, &raw)
}

struct Disc {
    x: f32,
    y: f32,
    radius: f32,
}

impl Disc {
    /// 1 inside, fading to 0 over the last fifth of the radius.
    fn cover(&self, x: f32, y: f32) -> f32 {
        let distance = ((x - self.x).powi(2) + (y - self.y).powi(2)).sqrt();
        ((self.radius - distance) / (self.radius * 0.2)).clamp(0.0, 1.0)
    }
}

fn encode_png(width: u32, height: u32, filtered_rows: &[u8]) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    // 8 bits per channel, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
    header.extend([8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::fast());
    // Writing to a Vec cannot fail.
    let data = encoder.write_all(filtered_rows).and_then(|()| encoder.finish()).unwrap_or_default();
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend(u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    png.extend(kind);
    png.extend(data);
    png.extend(crc.finalize().to_be_bytes());
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

/// A saturated, fairly light colour of `hue` degrees.
fn hue_to_rgb(hue: f32) -> [f32; 3] {
    let (saturation, lightness) = (0.55f32, 0.55f32);
    let chroma = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let sector = hue / 60.0;
    let second = chroma * (1.0 - (sector % 2.0 - 1.0).abs());
    let (r, g, b) = match sector as u32 {
        0 => (chroma, second, 0.0),
        1 => (second, chroma, 0.0),
        2 => (0.0, chroma, second),
        3 => (0.0, second, chroma),
        4 => (second, 0.0, chroma),
        _ => (chroma, 0.0, second),
    };
    let lift = lightness - chroma / 2.0;
    [(r + lift) * 255.0, (g + lift) * 255.0, (b + lift) * 255.0]
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::ai::images::{ImageFormat, sniff};

    #[test]
    fn the_placeholder_is_a_valid_png_of_the_size_asked() {
        let png = placeholder_png("a lighthouse at dawn", 64, 48);
        assert_eq!(sniff(&png), Some((ImageFormat::Png, 64, 48)));
        // Every chunk's CRC holds and the pixel data inflates to the right size.
        let mut at = 8;
        let mut idat = Vec::new();
        while at < png.len() {
            let length = u32::from_be_bytes(png[at..at + 4].try_into().expect("length")) as usize;
            let body = &png[at + 4..at + 8 + length];
            let crc = u32::from_be_bytes(png[at + 8 + length..at + 12 + length].try_into().expect("crc"));
            assert_eq!(crc32fast::hash(body), crc);
            if &body[..4] == b"IDAT" {
                idat.extend(&body[4..]);
            }
            at += 12 + length;
        }
        let mut pixels = Vec::new();
        flate2::read::ZlibDecoder::new(&idat[..]).read_to_end(&mut pixels).expect("inflate");
        assert_eq!(pixels.len(), 48 * (1 + 64 * 3));
    }

    #[test]
    fn the_same_prompt_gives_the_same_picture() {
        assert_eq!(placeholder_png("x", 16, 16), placeholder_png("x", 16, 16));
        assert_ne!(placeholder_png("x", 16, 16), placeholder_png("y", 16, 16));
    }
}
