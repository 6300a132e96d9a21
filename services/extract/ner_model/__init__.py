"""Newswire's own news NER model: data conversion, training, export and evaluation (``make train-ner``,
``make eval-ner``). Nothing here is imported by the extract worker; it loads the exported model through
:mod:`services.extract.onnx_tagger`."""
