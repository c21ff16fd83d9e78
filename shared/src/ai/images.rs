//! Image generation: one picture per prompt, as encoded bytes with the type and size read
//! from the bytes themselves (never from what a provider claims), so that what is stored and
//! later served is known to be an image.

use std::time::Duration;

use async_trait::async_trait;
use rust_decimal::Decimal;

use super::AiError;
use crate::net::{GuardedClient, SendError};

/// Providers' answers larger than this are refused (a 1536×1024 PNG is 2–4 MiB).
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// The picture's orientation; each provider maps it to a size it supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageShape {
    Landscape,
    Portrait,
    Square,
}

impl ImageShape {
    /// OpenAI's GPT image sizes.
    pub fn size(self) -> (u32, u32) {
        match self {
            ImageShape::Landscape => (1536, 1024),
            ImageShape::Portrait => (1024, 1536),
            ImageShape::Square => (1024, 1024),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ImageRequest {
    pub prompt: String,
    pub shape: ImageShape,
}

/// What a provider drew.
#[derive(Clone, Debug)]
pub struct GeneratedImage {
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    pub model: String,
    /// The prompt as the provider rewrote it, when it says.
    pub revised_prompt: Option<String>,
    /// What the provider says the picture cost, in US dollars, when it says (Runware does).
    pub cost_usd: Option<Decimal>,
    /// Where the provider hosts the picture, when it answered with a URL.
    pub source_url: Option<String>,
}

impl GeneratedImage {
    /// Checks that `bytes` are an image we can serve and reads its format and size.
    pub fn from_bytes(bytes: Vec<u8>, model: &str, revised_prompt: Option<String>) -> Result<Self, AiError> {
        if bytes.len() > MAX_IMAGE_BYTES {
            return Err(AiError::Malformed(format!("the image is larger than {MAX_IMAGE_BYTES} bytes")));
        }
        let (format, width, height) = sniff(&bytes)
            .ok_or_else(|| AiError::Malformed("the answer is not a PNG, JPEG, WebP or GIF image".into()))?;
        Ok(Self {
            bytes,
            format,
            width,
            height,
            model: model.to_owned(),
            revised_prompt,
            cost_usd: None,
            source_url: None,
        })
    }
}

/// A picture a provider hosts instead of answering with its bytes, fetched with the provider's
/// own client (same timeout, same address guard), capped at `MAX_IMAGE_BYTES`.
pub(crate) async fn fetch_image(
    http: &GuardedClient,
    url: &str,
    timeout: Duration,
) -> Result<Vec<u8>, AiError> {
    let unreachable = |error: reqwest::Error| {
        if error.is_timeout() {
            AiError::Timeout(timeout)
        } else {
            AiError::Unreachable(format!("the image URL could not be fetched: {error}"))
        }
    };
    let mut response = match http.send(http.get(url)).await {
        Ok(response) => response,
        Err(SendError::Refused(refused)) => {
            return Err(AiError::Malformed(format!("the image URL is refused: {refused}")));
        }
        Err(SendError::Http(error)) => return Err(unreachable(error)),
    };
    if !response.status().is_success() {
        return Err(AiError::Malformed(format!("the image URL answered {}", response.status())));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if bytes.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err(AiError::Malformed(format!("the image is larger than {MAX_IMAGE_BYTES} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

#[async_trait]
pub trait ImageGenerator: Send + Sync {
    fn model(&self) -> &str;

    async fn generate(&self, request: &ImageRequest) -> Result<GeneratedImage, AiError>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
    Gif,
}

impl ImageFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
        }
    }
}

/// The format and pixel size from an image's header, or `None` when the bytes are not one of
/// the formats we serve.
pub fn sniff(bytes: &[u8]) -> Option<(ImageFormat, u32, u32)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        return Some((ImageFormat::Png, be_u32(bytes, 16)?, be_u32(bytes, 20)?));
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some((ImageFormat::Gif, u32::from(le_u16(bytes, 6)?), u32::from(le_u16(bytes, 8)?)));
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return webp_size(bytes).map(|(width, height)| (ImageFormat::Webp, width, height));
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return jpeg_size(bytes).map(|(width, height)| (ImageFormat::Jpeg, width, height));
    }
    None
}

fn be_u32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn be_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn le_u16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn le_u24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

/// Walks the JPEG segments to the first start-of-frame marker.
fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        while *bytes.get(at)? != 0xFF {
            at += 1;
        }
        while *bytes.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *bytes.get(at)?;
        at += 1;
        if matches!(marker, 0xD8 | 0x01 | 0xD0..=0xD7) {
            continue;
        }
        let length = usize::from(be_u16(bytes, at)?);
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let height = u32::from(be_u16(bytes, at + 3)?);
            let width = u32::from(be_u16(bytes, at + 5)?);
            return Some((width, height));
        }
        at += length;
    }
}

fn webp_size(bytes: &[u8]) -> Option<(u32, u32)> {
    match bytes.get(12..16)? {
        b"VP8 " => Some((u32::from(le_u16(bytes, 26)? & 0x3FFF), u32::from(le_u16(bytes, 28)? & 0x3FFF))),
        b"VP8L" => {
            let bits = u32::from_le_bytes(bytes.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le_u24(bytes, 24)? + 1, le_u24(bytes, 27)? + 1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_give_format_and_size() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend(640u32.to_be_bytes());
        png.extend(480u32.to_be_bytes());
        assert_eq!(sniff(&png), Some((ImageFormat::Png, 640, 480)));

        let gif = b"GIF89a\x20\x03\x58\x02rest";
        assert_eq!(sniff(gif), Some((ImageFormat::Gif, 800, 600)));

        // SOI, an APP0 segment of 16 bytes, then SOF0 with height 300 and width 400.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend([0u8; 14]);
        jpeg.extend([0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0x2C, 0x01, 0x90]);
        assert_eq!(sniff(&jpeg), Some((ImageFormat::Jpeg, 400, 300)));

        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\0\0\0\0".to_vec();
        webp.extend([0xFF, 0x03, 0x00, 0xFF, 0x01, 0x00]);
        assert_eq!(sniff(&webp), Some((ImageFormat::Webp, 1024, 512)));
    }

    #[test]
    fn other_bytes_are_not_images() {
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(sniff(b"<html><script>alert(1)</script>"), None);
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF]), None);
        assert!(GeneratedImage::from_bytes(b"not an image".to_vec(), "m", None).is_err());
    }
}
