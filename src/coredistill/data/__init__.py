"""Data sets (offline sources), normalization and ZCA."""
from .dataset import ImageDataset
from .paths import data_dir
from .sources import SOURCES, Source, list_datasets, load_dataset
from .transforms import ZCA, Normalizer

__all__ = ["ImageDataset", "Normalizer", "SOURCES", "Source", "ZCA", "data_dir", "list_datasets", "load_dataset"]
