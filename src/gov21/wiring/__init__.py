"""The platform as one whole: what starts, assembles and describes every app together (``gov21 up``,
the OpenAPI document of the public API). It sits above every app, so it may import any of them;
``gov21.core`` may not."""
