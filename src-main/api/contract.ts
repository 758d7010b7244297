// The ONE API of the app: every method's name, request and response schema, and doc. The HTTP/WebSocket
// transport (browser mode), the Electron IPC transport and the renderer's typed client all use this table,
// so a request is validated the same way whichever way it arrives.
// This file must stay free of Node imports: the renderer bundles it.
import { z } from 'zod';

/** Hard limits shared by the transports and the schemas. */
export const LIMITS = {
  /** Largest request body (HTTP) or IPC payload, in bytes of JSON. */
  maxRequestBytes: 1_000_000,
  maxPathLength: 4096,
  maxPageSize: 500,
  maxMethodsPerJob: 32,
  maxImagesPerJob: 100_000,
  maxTextLength: 2000,
  maxBoxes: 200,
  maxMaskSide: 2048,
} as const;

const Id = z.string().min(1).max(128).regex(/^[A-Za-z0-9_.:-]+$/, 'an id is letters, digits and _.:- only');
const Path = z.string().min(1).max(LIMITS.maxPathLength).refine((p) => !p.includes('\0'), 'a path cannot contain NUL');
const Name = z.string().trim().min(1).max(100);
const Text = z.string().max(LIMITS.maxTextLength);
const Unit = z.number().finite().min(0).max(1);
const ClassIndex = z.number().int().min(0).max(1_000_000);

export const COLORMAP_NAMES = ['viridis', 'turbo', 'jet', 'grey'] as const;
export const Colormap = z.enum(COLORMAP_NAMES);
export const ScaleMode = z.enum(['normalised', 'raw']);

export const TargetSchema = z.strictObject({ classIndex: ClassIndex, score: z.enum(['logit', 'probability']) });
/** What an explanation explains, named: its target class (with label) and score kind, and its series (docs/protocol.md:
 *  method | top1 or class:N | score kind; comparisons group by series and never merge two). */
export const Identity = z.object({
  targetClass: z.number(), targetLabel: z.string(), scoreKind: z.enum(['logit', 'probability']),
  series: z.string(), seriesLabel: z.string(),
});

export const ModelSummary = z.object({
  id: z.string(),
  spec: z.string(),
  name: z.string(),
  inputWidth: z.number(),
  inputHeight: z.number(),
  numClasses: z.number(),
  preset: z.string(),
  head: z.string(),
  /** Methods that can run on this model (e.g. CAM methods need a found linear head). */
  methods: z.array(z.string()),
});

export const LibrarySchema = z.object({
  id: z.string(),
  path: z.string(),
  name: z.string(),
  imageCount: z.number(),
  errors: z.array(z.string()),
});

export const Prediction = z.object({ classIndex: z.number(), label: z.string(), probability: z.number(), logit: z.number() });

export const ImageSummary = z.object({
  id: z.string(),
  libraryId: z.string(),
  name: z.string(),
  relPath: z.string(),
  predicted: Prediction.nullable(),
  groundTruth: z.object({ classIndex: z.number(), label: z.string() }).nullable(),
  /** null when the prediction or the ground truth is unknown. */
  correct: z.boolean().nullable(),
  methods: z.array(z.string()),
  rated: z.boolean(),
  error: z.string().nullable(),
});

export const ExplanationSummary = z.object({
  id: z.string(),
  imageId: z.string(),
  modelId: z.string(),
  method: z.string(),
  target: TargetSchema,
  targetLabel: z.string(),
  /** Series key and label, e.g. "gradcam|top1|logit", "gradcam (top-1, logit)". */
  series: z.string(),
  seriesLabel: z.string(),
  millis: z.number(),
  evaluations: z.number(),
  seed: z.number(),
  settings: z.record(z.string(), z.unknown()),
});

export const ImageDetail = z.object({
  image: ImageSummary,
  width: z.number(),
  height: z.number(),
  /** Where the model input lies in the original (maps cover only this region). */
  crop: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }),
  predictions: z.array(Prediction),
  explanations: z.array(ExplanationSummary),
});

/** A map projected onto the original image (scaled to fit maxSide), NaN where the model did not look. */
export const MapData = z.object({
  width: z.number(),
  height: z.number(),
  /** Little-endian Float32 values, base64. */
  data: z.string(),
  min: z.number(),
  max: z.number(),
});

export const JobState = z.enum(['queued', 'running', 'paused', 'done', 'cancelled', 'failed']);
export const JobSchema = z.object({
  id: z.string(),
  label: z.string(),
  state: JobState,
  done: z.number(),
  total: z.number(),
  failed: z.number(),
  /** Seconds left, from the mean time per finished item; null before the first item. */
  etaSeconds: z.number().nullable(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  current: z.string().nullable(),
  errors: z.array(z.object({ item: z.string(), message: z.string() })),
});

export const FilterSchema = z.strictObject({
  text: z.string().max(200).optional(),
  predictedClass: ClassIndex.optional(),
  correct: z.enum(['yes', 'no', 'unknown']).optional(),
  method: z.string().max(64).optional(),
  /** Has a stored metric of this name (e.g. deletion, insertion) on one of its maps. */
  metric: z.string().max(64).optional(),
  rated: z.boolean().optional(),
  /** ok (default): readable images; unreadable: files that could not be read or have vanished, with their errors; all. */
  status: z.enum(['ok', 'unreadable', 'all']).optional(),
});

export const Box = z.strictObject({ x: Unit, y: Unit, w: Unit, h: Unit, label: z.string().max(100).default('') })
  .refine((b) => b.x + b.w <= 1 + 1e-9 && b.y + b.h <= 1 + 1e-9, 'the box runs past the image (x + w and y + h must be at most 1)');
/** A brush mask as run-length encoding over row-major pixels, starting with a run of zeros. */
export const Mask = z.strictObject({
  width: z.number().int().min(1).max(LIMITS.maxMaskSide),
  height: z.number().int().min(1).max(LIMITS.maxMaskSide),
  runs: z.array(z.number().int().min(0)).max(200_000),
}).refine((m) => m.runs.reduce((a, b) => a + b, 0) === m.width * m.height, 'mask runs must add up to width x height');

export const AnnotationSchema = z.strictObject({
  imageId: Id,
  boxes: z.array(Box).max(LIMITS.maxBoxes),
  mask: Mask.nullable(),
  caption: Text,
  concepts: z.array(z.string().trim().min(1).max(60)).max(100),
  author: z.string().max(100).default(''),
});

export const RatingItem = z.object({
  imageId: z.string(),
  /** Explanations to rate: one for Likert, two (A, B) for pairwise. Order already shuffled in blind mode. */
  explanationIds: z.array(z.string()),
  /** Method names, or "Map 1", "Map 2"... in blind mode. */
  labels: z.array(z.string()),
  done: z.boolean(),
});

export const MethodScore = z.object({
  method: z.string(),
  /** One row per series (method, target role, score kind): two targets of a method are never merged. */
  series: z.string(),
  seriesLabel: z.string(),
  scoreKind: z.string(),
  /** The classes the series' rated maps explain. */
  classes: z.array(z.object({ classIndex: z.number(), label: z.string() })),
  likertMean: z.number().nullable(),
  likertCount: z.number(),
  pairwiseWins: z.number(),
  pairwiseCount: z.number(),
  /** Bradley-Terry strength (sums to 1 over methods with comparisons), null without comparisons. */
  bradleyTerry: z.number().nullable(),
});

export const WeightSource = z.enum(['likert', 'bradley-terry', 'metrics', 'manual']);
const Weights = z.record(z.string().max(64), z.number().finite().min(0).max(1000));
/** A weight set to save: at least one method weighted above 0 (an empty or all-zero set combines nothing). */
const WeightIntervals = z.record(z.string().max(64), z.object({ n: z.number().int().min(0), lo: z.number().nullable(), hi: z.number().nullable() }));
const SavedWeights = Weights.refine((w) => Object.values(w).some((v) => v > 0), 'give at least one method a weight above 0');

export const CurveSchema = Identity.extend({
  explanationId: z.string(),
  method: z.string(),
  /** Curves follow the target's probability (the evaluation protocol), whatever score the map explains. */
  deletion: z.array(z.number()),
  insertion: z.array(z.number()),
  deletionAuc: z.number(),
  insertionAuc: z.number(),
  /** The same AUCs on the protocol's random control maps (mean of 4 smooth 7x7 maps). */
  deletionControl: z.number().nullable(),
  insertionControl: z.number().nullable(),
  protocol: z.string(),
});

const Empty = z.strictObject({});

const SettingsMap = z.record(z.string().max(64), z.record(z.string().max(64), z.unknown()));
export const StudySpec = z.strictObject({
  libraryId: Id,
  /** The Library's current filter: the study covers exactly the images it shows. */
  filter: FilterSchema.default({}),
  methods: z.array(z.string().min(1).max(64)).max(LIMITS.maxMethodsPerJob).default([]),
  /** Settings per method (defaults where absent), validated as the CLI does. */
  methodSettings: SettingsMap.default({}),
  /** Combiners of the study's methods per image (mean, borda, ...). */
  ensembles: z.array(z.string().min(1).max(64)).max(12).default([]),
  /** A saved weight set, run as ensemble:weighted over the images (its members with weight > 0 are run first). */
  savedEnsembleId: Id.optional(),
  /** Metrics for every map, each with its random-map control where it has one (e.g. deletion, insertion, aopc-morf). */
  metrics: z.array(z.string().min(1).max(64)).max(16).default([]),
  metricSettings: SettingsMap.default({}),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
});
export const SeriesStat = z.object({
  series: z.string(), seriesLabel: z.string(), method: z.string(), metric: z.string(), higherIsBetter: z.boolean(),
  /** lo/hi: the 95% bootstrap interval; null below 2 images. */
  n: z.number(), mean: z.number(), lo: z.number().nullable(), hi: z.number().nullable(),
  controlMean: z.number().nullable(),
  /** Paired difference to the random control, oriented so that > 0 is better than chance. */
  vsControl: z.object({ diff: z.number(), lo: z.number().nullable(), hi: z.number().nullable() }).nullable(),
});
const Ok = z.object({ ok: z.literal(true) });
/** One method's settings form (derived from the explainer's own defaults and checks). */
export const MethodSettingsForm = z.object({
  method: z.string(), description: z.string(),
  fields: z.array(z.object({
    key: z.string(), type: z.enum(['integer', 'number', 'boolean', 'string']), default: z.union([z.number(), z.string(), z.boolean()]),
    min: z.number().nullable().optional(), max: z.number().nullable().optional(), minExclusive: z.boolean().optional(), maxExclusive: z.boolean().optional(),
    choices: z.array(z.string()).optional(),
    /** The budget also takes "auto" (anytime: stop when precise enough). */
    auto: z.boolean().optional(),
    description: z.string(),
  })),
});

function method<Req extends z.ZodType, Res extends z.ZodType>(doc: string, request: Req, response: Res) {
  return { doc, request, response };
}

export const API = {
  'app.info': method('Version, active model, known methods/models and which engine parts are available.', Empty, z.object({
    version: z.string(),
    mode: z.enum(['browser', 'electron']),
    model: ModelSummary.nullable(),
    models: z.array(z.string()),
    methods: z.array(z.string()),
    /** Ensemble combiners a library batch can add. */
    ensembles: z.array(z.string()),
    colormaps: z.array(z.string()),
    features: z.object({ persistence: z.string(), metrics: z.boolean(), ensembles: z.boolean(), reports: z.boolean() }),
  })),
  'model.load': method('Load a model ("builtin:demo" or an .onnx path) and make it the active one.',
    z.strictObject({ spec: z.string().min(1).max(LIMITS.maxPathLength) }), ModelSummary),
  'library.open': method('Register a folder as a library and scan it recursively for images; starts a prediction job.',
    z.strictObject({ path: Path }), LibrarySchema),
  'library.list': method('Every registered library.', Empty, z.array(LibrarySchema)),
  'images.list': method('A page of a library\'s images, filtered.', z.strictObject({
    libraryId: Id,
    offset: z.number().int().min(0).max(10_000_000).default(0),
    limit: z.number().int().min(1).max(LIMITS.maxPageSize).default(100),
    filter: FilterSchema.default({}),
  }), z.object({ total: z.number(), offset: z.number(), items: z.array(ImageSummary) })),
  'image.get': method('One image with its top-5 predictions and every explanation of it (predicts on demand).',
    z.strictObject({ imageId: Id }), ImageDetail),
  'image.open': method('Find an image by path; the path must lie inside a registered library.',
    z.strictObject({ path: Path }), ImageSummary),
  'map.get': method('An explanation\'s map projected onto the original image.',
    z.strictObject({ explanationId: Id, maxSide: z.number().int().min(16).max(1024).default(320) }), MapData),
  'jobs.start': method('Explain images with methods (every image of a library, or the listed ones) as a background job.',
    z.strictObject({
      libraryId: Id.optional(),
      imageIds: z.array(Id).max(LIMITS.maxImagesPerJob).optional(),
      methods: z.array(z.string().min(1).max(64)).min(1).max(LIMITS.maxMethodsPerJob),
      /** Default: each image's top-1 class, each method's reference score (docs/protocol.md); score optional here too. */
      target: TargetSchema.extend({ score: TargetSchema.shape.score.optional() }).optional(),
      seed: z.number().int().min(0).max(2 ** 31 - 1).default(0),
      /** Library batches only: ensembles of the job's methods per image (combiner names, e.g. mean, borda). */
      ensembles: z.array(z.string().min(1).max(64)).max(12).default([]),
      /** Settings per method (defaults where absent), checked as the CLI checks --set. */
      settings: SettingsMap.default({}),
    }).refine((r) => Boolean(r.libraryId) !== Boolean(r.imageIds), 'give exactly one of libraryId or imageIds')
      .refine((r) => r.ensembles.length === 0 || (r.libraryId && !r.target), 'ensembles are made by library batches (libraryId, no target)'), JobSchema),
  'jobs.list': method('Every job, newest first.', Empty, z.array(JobSchema)),
  'jobs.pause': method('Pause a running or queued job after its current item.', z.strictObject({ jobId: Id }), JobSchema),
  'jobs.resume': method('Resume a paused job.', z.strictObject({ jobId: Id }), JobSchema),
  'jobs.cancel': method('Cancel a job; finished items are kept.', z.strictObject({ jobId: Id }), JobSchema),
  'ratings.queue': method('A rating session: the items to rate, shuffled and with method names hidden in blind mode.',
    z.strictObject({
      libraryId: Id,
      rater: Name,
      mode: z.enum(['likert', 'pairwise']),
      blind: z.boolean(),
      seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
      limit: z.number().int().min(1).max(2000).default(200),
    }), z.object({ items: z.array(RatingItem), done: z.number(), total: z.number() })),
  'ratings.likert': method('Rate one map 1-5 (how well it shows the evidence).', z.strictObject({
    explanationId: Id, rater: Name, score: z.number().int().min(1).max(5), blind: z.boolean(),
  }), Ok),
  'ratings.pairwise': method('Choose the better of two maps of the same image.', z.strictObject({
    a: Id, b: Id, winner: z.enum(['a', 'b', 'tie']), rater: Name, blind: z.boolean(),
  }).refine((r) => r.a !== r.b, 'a and b must be different explanations'), Ok),
  'ratings.summary': method('Rating statistics per series (method, target, score kind): Likert means, pairwise wins, Bradley-Terry.',
    z.strictObject({ libraryId: Id.optional() }), z.array(MethodScore)),
  'annotations.get': method('The annotation of an image (empty if none).', z.strictObject({ imageId: Id }), AnnotationSchema),
  'annotations.save': method('Replace the annotation of an image: boxes and masks where the evidence is, caption, concept words.',
    AnnotationSchema, Ok),
  'ensemble.derive': method('Ensemble weights per method from ratings, metrics or by hand (normalised to sum 1).', z.strictObject({
    source: WeightSource, manual: Weights.optional(), libraryId: Id.optional(),
  }), z.object({ weights: z.record(z.string(), z.number()), note: z.string(),
    /** Per member: sample size (ratings, choices or images) and the 95% bootstrap interval of its weight; null for weights set by hand. */
    intervals: WeightIntervals.nullable() })),
  'ensemble.preview': method('The weighted ensemble map of an image from its existing explanations.', z.strictObject({
    imageId: Id, weights: Weights, maxSide: z.number().int().min(16).max(1024).default(320),
  }), MapData.extend({ used: z.array(z.string()) })),
  'ensemble.save': method('Save a named weight set; saved ensembles appear beside the methods on the Image screen.',
    z.strictObject({ name: Name, weights: SavedWeights, source: WeightSource, /** The derived weights' intervals, kept in the provenance. */ intervals: WeightIntervals.optional() }), z.object({ id: z.string(), name: z.string() })),
  'ensemble.list': method('Saved weight sets.', Empty, z.array(z.object({ id: z.string(), name: z.string(), source: z.string(), weights: z.record(z.string(), z.number()) }))),
  'metrics.curves': method('Deletion and insertion curves of explanations (for the Compare screen).',
    z.strictObject({ explanationIds: z.array(Id).min(1).max(64), steps: z.number().int().min(4).max(64).default(16) }), z.array(CurveSchema)),
  'metrics.list': method('Stored metric values of explanations, with their random-map controls (the numbers reports are made of).',
    z.strictObject({ explanationIds: z.array(Id).min(1).max(5000) }),
    z.array(Identity.extend({
      explanationId: z.string(), method: z.string(), metric: z.string(), value: z.number().nullable(), randomControl: z.number().nullable(), seed: z.number(),
      /** Evaluation protocol of the value ('pre-protocol' for rows stored before it): values of different protocols are not comparable. */
      protocol: z.string(),
    }))),
  'concepts.image': method('The SMER concept explanation of an image: the concept model fitted on its library\'s stored captions (target: the active model\'s stored top-1 class, or its group), the caption\'s per-word SMER scores and LIME weights for the predicted class; or why there is none.',
    z.strictObject({
      imageId: Id,
      /** Regression classes as groups of classifier classes (as in a captions file); without, each predicted class with 2+ captioned images. */
      groups: z.record(z.string().max(100), z.array(z.union([ClassIndex, z.tuple([ClassIndex, ClassIndex])])).min(1).max(1000)).optional(),
    }), z.object({
      available: z.boolean(),
      /** Why there is no concept explanation (too few captions, no caption for this image, ...). */
      reason: z.string().nullable(),
      caption: z.string(),
      /** Captioned images of the library, and how many the model was fitted on. */
      captions: z.number(),
      fitted: z.number(),
      classes: z.array(z.string()),
      /** The image's regression target: the class (or group) of the active model's top-1 prediction. */
      target: z.string().nullable(),
      /** The regression's class for the caption, its probability and the caption's score (logit) for it. */
      predicted: z.string().nullable(),
      probability: z.number().nullable(),
      score: z.number().nullable(),
      /** |mean of per-word logits - caption logit| (SMER's fidelity identity; ~1e-16). */
      fidelityError: z.number().nullable(),
      accuracy: z.object({ train: z.number().nullable(), test: z.number().nullable(), trainN: z.number(), testN: z.number(), split: z.enum(['train', 'test']) }).nullable(),
      /** Distinct caption words, best SMER score first; count-weighted mean of smer = score. */
      words: z.array(z.object({ word: z.string(), count: z.number(), smer: z.number(), lime: z.number() })),
    })),
  'reports.export': method('Export a comparison report of a library.', z.strictObject({
    libraryId: Id, format: z.enum(['html', 'pdf', 'csv', 'json']),
  }), z.object({ path: z.string(), bytes: z.number(), /** For the "report" file route. */ reportId: z.string() })),
  // The app's study flow (handlers/study.ts): a cost estimate, one job of methods + ensembles + metrics over a
  // library or its current filter, and per-series summaries with intervals for Compare.
  'model.labels': method('The active model\'s class labels (for choosing a target by name).', Empty, z.array(z.object({ classIndex: z.number(), label: z.string() }))),
  'study.estimate': method('What a study would cost: each method and metric run once on a probe image (evaluations counted) and the model\'s measured time per evaluation.',
    StudySpec, z.object({
      images: z.number(), msPerEvaluation: z.number(), mapsPerImage: z.number(), evaluations: z.number(), seconds: z.number(),
      methods: z.array(z.object({ name: z.string(), evaluations: z.number(), millis: z.number() })),
      metrics: z.array(z.object({ name: z.string(), evaluations: z.number(), millis: z.number() })),
      probe: z.string(),
    })),
  'plan.study': method('The cost planner (engine/jobs/plan.ts): model evaluations per method (per image) and metric (per map) counted on a probe image, and the expected time from this model\'s per-evaluation time on this machine, measured once and stored with the model.',
    StudySpec, z.object({
      images: z.number(), mapsPerImage: z.number(), evaluations: z.number(), seconds: z.number(), probe: z.string(),
      perEvaluation: z.object({ ms: z.number(), source: z.enum(['stored', 'measured']), machine: z.string(), measuredAt: z.string().nullable() }),
      lines: z.array(z.object({
        name: z.string(), kind: z.enum(['method', 'metric']), evaluations: z.number(), runs: z.number(), totalEvaluations: z.number(),
        seconds: z.number(), overheadMs: z.number().optional(), cap: z.number().optional(),
      })),
    })),
  'study.start': method('Run methods + ensembles (or a saved ensemble) + metrics with their random-map controls over a library or its filter, as one resumable job.',
    StudySpec, JobSchema),
  'study.summary': method('Per series (method, target, score kind) and metric over a library or its filter: n, mean, 95% bootstrap interval, random-control mean and the paired difference to it; per image the gap between series and the disagreement of their maps.',
    z.strictObject({ libraryId: Id, filter: FilterSchema.default({}) }), z.object({
      rows: z.array(SeriesStat),
      images: z.array(z.object({ imageId: z.string(), disagreement: z.number().nullable(), gap: z.number().nullable() })),
      /** Stored values left out because the protocol forbids comparing them (other protocol, other settings), in words. */
      refusals: z.array(z.string()),
      note: z.string(),
    })),
  // The settings panel per method (handlers/method-settings.ts): each explainer's settings with defaults, ranges and
  // choices, and a form checked by the CLI's own rules (values typed as `--set method.key=value` types them).
  'methods.settings': method('Every method\'s settings: name, type, default, range or choices, description.', Empty, z.array(MethodSettingsForm)),
  'methods.check': method('Check a method\'s settings form as the CLI checks --set: per-field refusals, the typed settings and the resolved ones.',
    z.strictObject({ method: z.string().min(1).max(64), values: z.record(z.string().max(64), z.string().max(200)) }),
    z.object({
      /** The non-blank fields typed as --set types them (what a job or study sends). */
      settings: z.record(z.string(), z.unknown()),
      /** Every setting with defaults filled in; null while a field is refused. */
      resolved: z.record(z.string(), z.unknown()).nullable(),
      /** One line per refused field. */
      errors: z.record(z.string(), z.string()),
      /** A refusal of the fields together (a rule between fields). */
      error: z.string().nullable(),
    })),
  'ratings.undo': method('Remove the rater\'s latest rating or A/B choice (undo).', z.strictObject({ rater: Name, mode: z.enum(['likert', 'pairwise']) }),
    z.object({ undone: z.boolean(), explanationIds: z.array(z.string()) })),
} as const;

export type ApiTable = typeof API;
export type MethodName = keyof ApiTable;
export type Req<M extends MethodName> = z.input<ApiTable[M]['request']>;
export type ParsedReq<M extends MethodName> = z.output<ApiTable[M]['request']>;
export type Res<M extends MethodName> = z.output<ApiTable[M]['response']>;
export const METHOD_NAMES = Object.keys(API) as MethodName[];

export type Library = z.output<typeof LibrarySchema>;
export type ImageSummaryT = z.output<typeof ImageSummary>;
export type ExplanationSummaryT = z.output<typeof ExplanationSummary>;
export type Job = z.output<typeof JobSchema>;
export type MapDataT = z.output<typeof MapData>;
export type Annotation = z.output<typeof AnnotationSchema>;
export type Filter = z.output<typeof FilterSchema>;

/** Events pushed to the renderer (WebSocket in browser mode, IPC in Electron). */
export type ApiEvent =
  | { type: 'job'; job: Job }
  | { type: 'library'; library: Library }
  | { type: 'image'; imageId: string }
  /** Results changed somewhere (a batch job stored maps): views refresh. */
  | { type: 'changed' }
  /** A single image's explanation under way: fraction done, the explainer's note, the partial map of anytime methods. */
  | { type: 'progress'; imageId: string; method: string; targetClass: number; fraction: number; note: string | null; partial: MapDataT | null };

/** Every reply, whatever the transport. */
export type Envelope<T = unknown> = { ok: true; result: T } | { ok: false; error: { code: string; message: string } };

/** Status codes used by the HTTP transport for each error code. */
export const HTTP_STATUS: Record<string, number> = {
  BAD_REQUEST: 400, UNKNOWN_METHOD: 404, NOT_FOUND: 404, PATH_OUTSIDE_LIBRARY: 403, UNAUTHORIZED: 401,
  FORBIDDEN: 403, TOO_LARGE: 413, NOT_AVAILABLE: 501, NO_MODEL: 409, CONFLICT: 409,
};

/** Turns a zod failure into one readable line naming each bad field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'request'}: ${i.message}`).join('; ');
}
