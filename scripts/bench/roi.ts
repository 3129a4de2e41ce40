/** The region both bench workers sum, and the image they sum it in (roi_payload.py repeats these numbers). */
export const IMAGE_SHAPE = [512, 512];
export const ROI = { top: 128, bottom: 384, left: 128, right: 384 };
