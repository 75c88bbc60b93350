"""The web dashboard the ops endpoint serves at ``/``: plain HTML, CSS and one small script, shipped as
package data (no build step, no CDN: it works offline). The script polls ``/status`` once a second."""
