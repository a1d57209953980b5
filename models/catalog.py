"""What each model is, where it comes from, what it needs and what it says.

Weights are never committed: ``models.locate`` finds the files in a models
directory and ``python -m models fetch NAME`` downloads them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelFile:
    """One file a model needs.

    ``names`` lists the accepted file names, the first being the one a fetch writes;
    ``size`` (bytes) and ``sha256`` describe the upstream file when known.
    """

    role: str
    names: tuple[str, ...]
    url: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    task: str  # "objects", "faces", "sound events" or "speech"
    format: str  # "onnx", "caffe", "tflite" or "built into OpenCV"
    runtime: str
    description: str
    input_size: tuple[int, int] | None  # (width, height) in pixels, or None for audio / any
    preprocessing: str
    licence: str
    source: str
    files: tuple[ModelFile, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def builtin(self) -> bool:
        """True when the model ships inside an installed package and needs no files."""
        return not self.files


COCO_LABELS = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
    "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
    "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
    "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
    "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
    "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
    "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
    "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
    "toothbrush",
)  # fmt: skip

# Index 0 is the background class of the Caffe SSD output.
VOC_LABELS = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)  # fmt: skip

YOLOX_NANO = ModelSpec(
    name="yolox-nano",
    title="YOLOX-Nano (COCO objects)",
    task="objects",
    format="onnx",
    runtime="onnxruntime",
    description="Megvii's smallest YOLOX: 80 everyday object classes from COCO, fast on a CPU.",
    input_size=(416, 416),
    preprocessing="letterbox to 416×416 (pad 114), BGR 0..255, no normalisation",
    licence="Apache-2.0",
    source="https://github.com/Megvii-BaseDetection/YOLOX",
    files=(
        ModelFile(
            role="model",
            names=("yolox_nano.onnx",),
            url="https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx",
            size=3_659_407,
            sha256="c789161ed43c8269fcd4e67c67eeeb4e80c622da2eb296a20bc6007bd18a0b7d",
        ),
    ),
    labels=COCO_LABELS,
)

MOBILENET_SSD = ModelSpec(
    name="mobilenet-ssd",
    title="MobileNet-SSD (Caffe, PASCAL VOC)",
    task="objects",
    format="caffe",
    runtime="opencv-dnn",
    description=(
        "A small, older object detector (2017) for 20 everyday classes — people, cars, "
        "cats, dogs, bottles, chairs… — run by OpenCV itself, no extra runtime needed."
    ),
    input_size=(300, 300),
    preprocessing="resize to 300×300, scale 0.007843, mean 127.5",
    licence="MIT",
    source="https://github.com/chuanqi305/MobileNet-SSD",
    files=(
        ModelFile(
            role="config",
            names=("MobileNetSSD_deploy.prototxt",),
            url="https://raw.githubusercontent.com/chuanqi305/MobileNet-SSD/master/voc/MobileNetSSD_deploy.prototxt",
        ),
        # chuanqi305 published the weights on Google Drive; this is a widely used mirror of them.
        ModelFile(
            role="weights",
            names=("MobileNetSSD_deploy.caffemodel",),
            url="https://raw.githubusercontent.com/PINTO0309/MobileNet-SSD-RealSense/master/caffemodel/MobileNetSSD/MobileNetSSD_deploy.caffemodel",
        ),
    ),
    labels=VOC_LABELS,
)

YUNET = ModelSpec(
    name="yunet",
    title="YuNet (faces)",
    task="faces",
    format="onnx",
    runtime="opencv (cv2.FaceDetectorYN)",
    description="A tiny, accurate face detector from OpenCV Zoo; also finds eyes, nose and mouth.",
    input_size=None,
    preprocessing="any size; BGR 0..255",
    licence="MIT",
    source="https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet",
    files=(
        ModelFile(
            role="model",
            names=("face_detection_yunet_2023mar.onnx", "face_detection_yunet_2026may.onnx"),
            url="https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx",
            size=232_589,
            sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
        ),
    ),
    labels=("face",),
)

HAAR_FACES = ModelSpec(
    name="haar-faces",
    title="Haar cascade faces (built into OpenCV)",
    task="faces",
    format="built into OpenCV",
    runtime="opencv (cv2.CascadeClassifier)",
    description=(
        "A classic 2001 Viola–Jones face detector that ships inside OpenCV itself: "
        "not deep learning, works offline with no downloads, finds frontal faces only."
    ),
    input_size=None,
    preprocessing="grayscale, histogram equalised",
    licence="Intel License Agreement (BSD-style), shipped with OpenCV",
    source="https://github.com/opencv/opencv/tree/4.x/data/haarcascades",
    labels=("face",),
)

HOG_PEOPLE = ModelSpec(
    name="hog-people",
    title="HOG people detector (built into OpenCV)",
    task="objects",
    format="built into OpenCV",
    runtime="opencv (cv2.HOGDescriptor)",
    description=(
        "The classic 2005 Dalal–Triggs pedestrian detector that ships inside OpenCV itself: "
        "not deep learning, works offline with no downloads, finds upright standing people only."
    ),
    input_size=(64, 128),
    preprocessing="grayscale, scaled to at most 800 px, sliding 64×128 window",
    licence="BSD-3-Clause, shipped with OpenCV",
    source="https://docs.opencv.org/4.x/d5/d33/structcv_1_1HOGDescriptor.html",
    labels=("person",),
)

BLAZEPOSE = ModelSpec(
    name="blazepose",
    title="BlazePose (body poses, 33 keypoints)",
    task="poses",
    format="tflite",
    runtime="ai-edge-litert",
    description=(
        "MediaPipe's BlazePose: a person detector, then 33 body keypoints per person "
        "(face, shoulders, elbows, wrists, hands, hips, knees, ankles, feet)."
    ),
    input_size=(224, 224),
    preprocessing=(
        "detector: letterbox to 224×224, RGB in [-1, 1]; landmarks: a 256×256 crop around "
        "each person, turned upright, RGB in [0, 1]"
    ),
    licence="Apache-2.0",
    source="https://github.com/google-ai-edge/mediapipe/blob/master/docs/solutions/pose.md",
    files=(
        ModelFile(
            role="detector",
            names=("pose_detection.tflite",),
            url="https://storage.googleapis.com/mediapipe-assets/pose_detection.tflite?generation=1678737489600422",
            size=2_959_046,
            sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        ),
        ModelFile(
            role="landmarks",
            names=("pose_landmark_full.tflite",),
            url="https://storage.googleapis.com/mediapipe-assets/pose_landmark_full.tflite?generation=1661875894245786",
            size=6_440_512,
            sha256="e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
        ),
    ),
    labels=("person",),
)

YAMNET = ModelSpec(
    name="yamnet",
    title="YAMNet (AudioSet sound events)",
    task="sound events",
    format="tflite",
    runtime="ai-edge-litert",
    description="Google's sound-event classifier: 521 AudioSet classes, 0.975 s frames.",
    input_size=None,
    preprocessing="mono 16 kHz float32 in [-1, 1], 15 600 samples (0.975 s) per frame",
    licence="Apache-2.0",
    source="https://github.com/tensorflow/models/tree/master/research/audioset/yamnet",
    files=(
        ModelFile(
            role="model",
            names=("yamnet.tflite",),
            url="https://tfhub.dev/google/lite-model/yamnet/classification/tflite/1?lite-format=tflite",
        ),
        ModelFile(
            role="class_map",
            names=("yamnet_class_map.csv",),
            url="https://raw.githubusercontent.com/tensorflow/models/master/research/audioset/yamnet/yamnet_class_map.csv",
        ),
    ),
)


def _whisper_files(
    repo: str, folder: str, checks: dict[str, tuple[int, str]] | None = None
) -> tuple[ModelFile, ...]:
    """The four files of a CTranslate2 Whisper model, which must sit together in ``folder``.

    ``checks`` maps a file name to its upstream size (bytes) and sha256, where known.
    """
    checks = checks or {}
    return tuple(
        ModelFile(
            role=role,
            names=(f"{folder}/{name}",),
            url=f"https://huggingface.co/{repo}/resolve/main/{name}",
            size=checks.get(name, (None, None))[0],
            sha256=checks.get(name, (None, None))[1],
        )
        for role, name in (
            ("model", "model.bin"),
            ("config", "config.json"),
            ("tokenizer", "tokenizer.json"),
            ("vocabulary", "vocabulary.txt"),
        )
    )


_WHISPER_NOTE = (
    "OpenAI's Whisper speech recogniser converted for CTranslate2 (faster-whisper): "
    "segment and word timestamps, run on the CPU with int8 weights."
)

WHISPER_TINY_EN = ModelSpec(
    name="whisper-tiny.en",
    title="Whisper tiny.en (English speech to text)",
    task="speech",
    format="ctranslate2",
    runtime="faster-whisper",
    description=_WHISPER_NOTE + " The smallest English-only model (39 M parameters).",
    input_size=None,
    preprocessing="mono 16 kHz float32 in [-1, 1]; 30 s windows of 80-band log-mel",
    licence="MIT",
    source="https://huggingface.co/Systran/faster-whisper-tiny.en",
    files=_whisper_files(
        "Systran/faster-whisper-tiny.en",
        "faster-whisper-tiny.en",
        {
            "model.bin": (
                75_537_502,
                "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            ),
            "config.json": (
                2_317,
                "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            ),
            "tokenizer.json": (
                2_128_466,
                "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            ),
            "vocabulary.txt": (
                422_309,
                "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            ),
        },
    ),
)

WHISPER_BASE = ModelSpec(
    name="whisper-base",
    title="Whisper base (multilingual speech to text)",  # the default
    task="speech",
    format="ctranslate2",
    runtime="faster-whisper",
    description=_WHISPER_NOTE + " 74 M parameters, 99 languages, detects the language spoken.",
    input_size=None,
    preprocessing="mono 16 kHz float32 in [-1, 1]; 30 s windows of 80-band log-mel",
    licence="MIT",
    source="https://huggingface.co/Systran/faster-whisper-base",
    files=_whisper_files(
        "Systran/faster-whisper-base",
        "faster-whisper-base",
        {
            "model.bin": (
                145_217_532,
                "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            ),
            "config.json": (
                2_309,
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            ),
            "tokenizer.json": (
                2_203_239,
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            ),
            "vocabulary.txt": (
                459_861,
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            ),
        },
    ),
)

WHISPER_SMALL = ModelSpec(
    name="whisper-small",
    title="Whisper small (multilingual speech to text)",
    task="speech",
    format="ctranslate2",
    runtime="faster-whisper",
    description=_WHISPER_NOTE
    + " 244 M parameters, 99 languages, detects the language spoken; several times slower.",
    input_size=None,
    preprocessing="mono 16 kHz float32 in [-1, 1]; 30 s windows of 80-band log-mel",
    licence="MIT",
    source="https://huggingface.co/Systran/faster-whisper-small",
    files=_whisper_files("Systran/faster-whisper-small", "faster-whisper-small"),
)

CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        YOLOX_NANO,
        MOBILENET_SSD,
        YUNET,
        HAAR_FACES,
        HOG_PEOPLE,
        BLAZEPOSE,
        YAMNET,
        WHISPER_TINY_EN,
        WHISPER_BASE,
        WHISPER_SMALL,
    )
}


def get_spec(name: str) -> ModelSpec:
    """The catalog entry called ``name``; raises KeyError listing the known names."""
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise KeyError(f"unknown model {name!r}; known models: {known}") from None
