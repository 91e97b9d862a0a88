"""Music and models: corpora and their import, the two encodings (encoding/), the three networks,
training, sampling, memorisation and the JSB benchmark, external generators' imported pieces;
the rows that record them (models/), and the tasks and commands that run them.

Pure core, no Django: encoding/, corpora, midi_files, splits, datasets, networks, training,
sampling, metrics, memorisation, screening, jsb. Shell: models/, importing (stores pieces in a
corpus), external (stores an external generator's pieces as a batch), tasks/, admin,
management commands. A core module and the task module that puts it on the queue
share a name: training.py and tasks/training.py, sampling.py and tasks/sampling.py,
importing.py and tasks/importing.py.

May import: worker. audio, surveys, evaluation and the dashboard build on it; it imports none
of them (the import contracts in pyproject.toml check this).
"""
