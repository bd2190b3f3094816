"""The tag colours of the API (`tag-red|tag-blue|tag-green|tag-purple`), with the shades a UI
draws them in (served by /client.config, checked by tags.create)."""

from __future__ import annotations

TAG_COLORS: dict[str, dict[str, str]] = {
    "tag-red": {"default": "F53B33", "background": "FFE5E4", "font": "F53B33", "border": "F53B33"},
    "tag-blue": {"default": "1578D4", "background": "E3F1FF", "font": "1578D4", "border": "1578D4"},
    "tag-green": {"default": "0E764F", "background": "DDF7EC", "font": "0E764F", "border": "0E764F"},
    "tag-purple": {"default": "730A80", "background": "F9E5FB", "font": "730A80", "border": "730A80"},
}
