/** The model the serving benchmark serves, shared by its processes. */
export const FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'];
export const CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'];
export const MODEL = 'weather';
export const TOKEN = 'bench-token';
